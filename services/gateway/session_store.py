"""Everything needed to continue a session, kept in Redis.

A session id is `<tenant>.<32 hex>`; its keys live under the tenant's prefix, `sl:<tenant>:`, and
share the hash tag `{<32 hex>}` (written `{sid}` below) so one session lives on one Redis Cluster
slot. Per session:
  sl:<tenant>:{sid}:meta        hash: config (SessionConfig bytes), resume token
  sl:<tenant>:{sid}:history     list: conversation messages as JSON, oldest first
  sl:<tenant>:{sid}:state       hash: encoder and decider state (bytes), audio clock, counters,
                       where the caller turn in progress starts and its speech ends
  sl:<tenant>:{sid}:turn_audio  string: that turn's 16 kHz audio so far (appended per chunk)
  sl:<tenant>:{sid}:events      stream: every event sent but reply audio, field `ev` = ConverseResponse bytes
  sl:<tenant>:{sid}:audio       stream: the reply audio events, only the last `audio_log_max` (~30 s): a
                       resumed caller needs the rest of the reply in progress, not every past
                       reply's sound, and audio is most of a session's bytes
  sl:<tenant>:{sid}:owner       string: the connection that owns the session now
  sl:resume:<token>             string: session id, so a resume names the tenant the session belongs to
Every write refreshes the expiry of the keys it touches, every per-chunk write that
of all of them (`ttl_s`): no key outlives an idle session. Any gateway replica can
pick a session up from these keys alone; the newest connection takes it over and the
older one is told so at its next chunk.

Redis being unreachable or too slow (`timeout_s` per command) is SessionStoreUnavailable,
never a driver exception: the caller sees UNAVAILABLE with a message of ours. Appends
say where they expect to land (turn audio by byte offset, history by length), so a
retried or missed write is detected instead of duplicating or losing data; the
gateway then rewrites what Redis lacks (`restore`, ProgressSaver).
"""
from __future__ import annotations

import dataclasses
import functools
import json
import secrets
import time
import uuid
from collections.abc import Sequence

import redis.asyncio as aioredis
from redis import exceptions as redis_errors
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from soundloop import metrics
from soundloop.decider.v1 import decider_pb2
from soundloop.errors import Aborted, NotFound, PermissionDenied, Unavailable
from soundloop.settings import SessionSettings
from soundloop.v1 import interaction_pb2


class SessionNotFound(NotFound):
    """The resume token is unknown or its session has expired."""


class SessionTakenOver(Aborted):
    """Another connection resumed this session; this one must stop."""


class SessionStoreUnavailable(Unavailable):
    """Redis could not be reached, or did not answer within the timeout."""

    def __init__(self, detail: str):
        super().__init__(f"the session store did not answer ({detail}); retry, or resume with the session's "
                         "resume token")


class SessionOutOfStep(Exception):
    """Redis lacks part of the session this connection wrote (a lost write, or Redis restarted
    empty): the writer must rewrite it (SessionStore.restore) before going on."""


@dataclasses.dataclass
class OpenTurn:
    """A caller turn in progress: 16 kHz PCM from stream sample `start` on."""
    start: int
    pcm: bytes
    speech_end: int | None


@dataclasses.dataclass
class Progress:
    """What advances with every processed chunk."""
    encoder_state: bytes
    decider_state: decider_pb2.DeciderState
    audio_ms: float
    turns: int
    utterances: int
    turn_start: int | None = None
    speech_end: int | None = None
    # How turn_audio changes: "keep", "set" (to turn_pcm), "append" (turn_pcm at byte `append_at`), "clear".
    turn_audio_op: str = "keep"
    turn_pcm: bytes = b""
    append_at: int = 0
    sequence: int = 0  # the last event number given out (a floor for a resume if the event log is lost)
    open_reply: str = ""  # the turn id of the reply being spoken, if any


# Checks ownership, writes the progress and refreshes every key's expiry in one atomic step.
# KEYS: owner, state, turn_audio, meta, history, events, audio, resume;
# ARGV: owner id, ttl, op, pcm, append_at, fields...
# Returns 1 (saved), 0 (another connection owns the session), -1 (no owner: Redis lost the
# session, e.g. restarted empty), -2 (the turn audio is not as long as this append expects).
_SAVE_PROGRESS = """
local owner = redis.call('GET', KEYS[1])
if not owner then return -1 end
if owner ~= ARGV[1] then return 0 end
if ARGV[3] == 'append' and redis.call('STRLEN', KEYS[3]) ~= tonumber(ARGV[5]) then return -2 end
local fields = {}
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[2], unpack(fields))
if ARGV[3] == 'set' then redis.call('SET', KEYS[3], ARGV[4])
elseif ARGV[3] == 'append' then redis.call('APPEND', KEYS[3], ARGV[4])
elseif ARGV[3] == 'clear' then redis.call('DEL', KEYS[3]) end
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], tonumber(ARGV[2])) end
return 1
"""

# Appends history entries if this connection owns the session and the list is as long as it
# expects. KEYS: history, owner; ARGV: owner id, expected length, ttl, entries...
# Returns 1, 0 (another connection owns the session) or -1 (out of step, or no owner).
_APPEND_HISTORY = """
local owner = redis.call('GET', KEYS[2])
if owner and owner ~= ARGV[1] then return 0 end
if not owner or redis.call('LLEN', KEYS[1]) ~= tonumber(ARGV[2]) then return -1 end
redis.call('RPUSH', KEYS[1], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""

# Logs events unless another connection owns the session (after a takeover the old connection's
# events are not the session's any more: the new owner numbers its own from the log's end).
# KEYS: events, audio, owner; ARGV: owner id, ttl, event log max, audio log max, then per event:
# 1 if reply audio else 0, sequence, bytes. Returns 1, or 0 when another connection owns it.
_APPEND_EVENTS = """
local owner = redis.call('GET', KEYS[3])
if owner and owner ~= ARGV[1] then return 0 end
for i = 5, #ARGV, 3 do
  local audio = ARGV[i] == '1'
  redis.call('XADD', audio and KEYS[2] or KEYS[1], 'MAXLEN', '~', audio and ARGV[4] or ARGV[3], '*',
             'seq', ARGV[i + 1], 'ev', ARGV[i + 2])
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
return 1
"""



@dataclasses.dataclass
class ChatTurn:
    role: str  # "user" | "assistant" | "system"
    content: str


@dataclasses.dataclass
class SessionSnapshot:
    session_id: str
    resume_token: str
    config: interaction_pb2.SessionConfig
    history: list[ChatTurn]
    encoder_state: bytes
    decider_state: decider_pb2.DeciderState
    last_sequence: int
    turns: int
    utterances: int
    audio_ms: float  # caller audio processed so far: the session's clock, continued on resume
    owner: str  # this connection's claim on the session
    open_turn: OpenTurn | None = None
    # The reply turn that was being spoken when the session was last saved ("": none). A connection
    # that dies mid-reply (its gateway killed) cannot say so; the next one does.
    open_reply: str = ""


def new_session_id(tenant: str) -> str:
    return f"{tenant}.{uuid.uuid4().hex}"


def tenant_of(sid: str) -> str:
    return sid.partition(".")[0]


def key_prefix(sid: str) -> str:
    """Every key of session `sid` starts with this."""
    tenant, _, local = sid.partition(".")
    return f"sl:{tenant}:{{{local}}}"


def _keys(sid: str) -> dict[str, str]:
    base = key_prefix(sid)
    return {name: f"{base}:{name}" for name in ("owner", "state", "turn_audio", "meta", "history", "events",
                                                 "audio")}


def timed(method):
    """Records the operation's latency (soundloop.redis.operation.duration), failed or not, and
    turns Redis being unreachable or slow into SessionStoreUnavailable."""
    attributes = {"operation": method.__name__}

    @functools.wraps(method)
    async def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return await method(*args, **kwargs)
        except (redis_errors.ConnectionError, redis_errors.TimeoutError, redis_errors.OutOfMemoryError, OSError) as err:
            raise SessionStoreUnavailable(f"{method.__name__}: {type(err).__name__}") from err
        finally:
            metrics.REDIS_OPERATION.record(time.perf_counter() - started, attributes)
    return timed


class SessionStore:
    def __init__(self, client: aioredis.Redis, ttl_s: int = 3600, event_log_max: int = 5000,
                 outage_s: float = 10.0, audio_log_max: int = 300, ended_ttl_s: int = 300,
                 progress_every_ms: int = 500):
        self._redis = client
        self._ttl = ttl_s
        self._ended_ttl = ended_ttl_s
        self._event_log_max = event_log_max
        self._audio_log_max = audio_log_max
        # How long a live call rides out this store being unreachable (ProgressSaver).
        self.outage_s = outage_s
        # ... and how much caller audio may go between its progress writes (ProgressSaver).
        self.progress_every_ms = progress_every_ms
        self._save_progress = client.register_script(_SAVE_PROGRESS)
        self._append_history = client.register_script(_APPEND_HISTORY)
        self._append_events = client.register_script(_APPEND_EVENTS)

    @classmethod
    def from_url(cls, url: str, ttl_s: int = 3600, event_log_max: int = 5000, timeout_s: float = 0.5,
                 outage_s: float = 10.0, audio_log_max: int = 300, ended_ttl_s: int = 300,
                 progress_every_ms: int = 500) -> SessionStore:
        """`timeout_s` per command: a Redis that stopped answering (a silent network drop) is noticed
        within it, not after the kernel's TCP timeout. One immediate retry on a connection error
        (a pooled connection that a Redis restart closed); timeouts are not retried (the command
        may have run: the writer's offset checks sort that out)."""
        return cls(aioredis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                     retry=Retry(NoBackoff(), 1), retry_on_error=[redis_errors.ConnectionError]),
                   ttl_s, event_log_max, outage_s, audio_log_max, ended_ttl_s, progress_every_ms)

    @classmethod
    def from_settings(cls, url: str, session: SessionSettings) -> SessionStore:
        return cls.from_url(url, session.ttl_s, session.event_log_max, session.redis_timeout_s, session.store_outage_s,
                            session.audio_log_max, session.ended_ttl_s, session.progress_every_ms)

    async def close(self) -> None:
        await self._redis.aclose()

    async def ping(self) -> None:
        await self._redis.ping()

    @timed
    async def create(self, config: interaction_pb2.SessionConfig, tenant: str = "local",
                     sid: str = "") -> SessionSnapshot:
        sid = sid or new_session_id(tenant)
        token = secrets.token_urlsafe(24)
        keys = _keys(sid)
        pipe = self._redis.pipeline(transaction=True)
        owner = uuid.uuid4().hex
        pipe.hset(keys["meta"], mapping={"config": config.SerializeToString(), "resume_token": token})
        pipe.set(f"sl:resume:{token}", sid, ex=self._ttl)
        pipe.set(keys["owner"], owner, ex=self._ttl)
        pipe.expire(keys["meta"], self._ttl)
        await pipe.execute()
        return SessionSnapshot(sid, token, config, [], b"", decider_pb2.DeciderState(), 0, 0, 0, 0.0, owner)

    @property
    def client(self) -> aioredis.Redis:
        return self._redis

    @timed
    async def session_of(self, resume_token: str, tenant: str = "local") -> str:
        """The id of the session `resume_token` resumes. SessionNotFound if there is none;
        PermissionDenied if it belongs to another tenant than `tenant`."""
        sid = await self._redis.get(f"sl:resume:{resume_token}")
        if sid is None:
            raise SessionNotFound("unknown or expired resume token")
        sid = sid.decode()
        if tenant_of(sid) != tenant:
            raise PermissionDenied("this resume token belongs to a session of another tenant")
        return sid

    @timed
    async def load(self, resume_token: str, tenant: str = "local", sid: str = "") -> SessionSnapshot:
        """Claims the session for this connection. PermissionDenied, with nothing read or changed,
        if it belongs to another tenant than `tenant`. `sid`: what `session_of` already said."""
        sid = sid or await self.session_of(resume_token, tenant)
        keys = _keys(sid)
        # The newest connection wins. Claimed before anything is read: the older connection's writes
        # check ownership, so nothing it sends from now on lands in the session, and the sequence
        # numbers read below are the last ones the session will ever have given out.
        owner = uuid.uuid4().hex
        await self._redis.set(keys["owner"], owner, ex=self._ttl)
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(keys["meta"])
        pipe.lrange(keys["history"], 0, -1)
        pipe.hgetall(keys["state"])
        pipe.xrevrange(keys["events"], count=1)
        pipe.xrevrange(keys["audio"], count=1)
        pipe.get(keys["turn_audio"])
        meta, history, state, last, last_audio, turn_pcm = await pipe.execute()
        if not meta:
            raise SessionNotFound("unknown or expired resume token")
        config = interaction_pb2.SessionConfig.FromString(meta[b"config"])
        decider_state = decider_pb2.DeciderState.FromString(state.get(b"decider", b""))
        last_sequence = max([int(entries[0][1][b"seq"]) for entries in (last, last_audio) if entries]
                            + [int(state.get(b"sequence", 0))])
        await self.touch(sid, resume_token)
        turn_start, speech_end = int(state.get(b"turn_start", -1)), int(state.get(b"speech_end", -1))
        open_turn = (OpenTurn(turn_start, turn_pcm or b"", speech_end if speech_end >= 0 else None)
                     if turn_start >= 0 else None)
        return SessionSnapshot(
            session_id=sid, resume_token=resume_token, config=config,
            history=[ChatTurn(**json.loads(item)) for item in history],
            encoder_state=state.get(b"encoder", b""), decider_state=decider_state,
            last_sequence=last_sequence, turns=int(state.get(b"turns", 0)),
            utterances=int(state.get(b"utterances", 0)), audio_ms=float(state.get(b"audio_ms", 0.0)),
            owner=owner, open_turn=open_turn, open_reply=state.get(b"open_reply", b"").decode())

    @timed
    async def touch(self, sid: str, resume_token: str) -> None:
        """Pushes the expiry of every key of the session `ttl_s` into the future."""
        pipe = self._redis.pipeline(transaction=False)
        for key in _keys(sid).values():
            pipe.expire(key, self._ttl)
        pipe.expire(f"sl:resume:{resume_token}", self._ttl)
        await pipe.execute()

    @timed
    async def ended(self, sid: str, resume_token: str) -> None:
        """The caller ended the session: its keys go after `ended_ttl_s` (a replay may still be fetched),
        not after the full resume TTL, so Redis holds finished calls only briefly."""
        pipe = self._redis.pipeline(transaction=False)
        for key in [*_keys(sid).values(), f"sl:resume:{resume_token}"]:
            pipe.expire(key, self._ended_ttl)
        await pipe.execute()

    @timed
    async def forget(self, sid: str) -> bool:
        """Deletes everything stored of session `sid` (a caller's request to erase their data);
        its resume token stops working. False if nothing was stored."""
        token = await self._redis.hget(_keys(sid)["meta"], "resume_token")
        keys = [*_keys(sid).values(), *([f"sl:resume:{token.decode()}"] if token else [])]
        return await self._redis.delete(*keys) > 0

    @timed
    async def save_progress(self, sid: str, resume_token: str, owner: str, progress: Progress) -> None:
        """Everything that advances per chunk, in one atomic round trip (~0.1 ms; a stage call
        is ~2 ms). Raises SessionTakenOver if another connection owns the session now."""
        keys = _keys(sid)
        fields = {"encoder": progress.encoder_state, "decider": progress.decider_state.SerializeToString(),
                  "audio_ms": progress.audio_ms, "turns": progress.turns, "utterances": progress.utterances,
                  "turn_start": -1 if progress.turn_start is None else progress.turn_start,
                  "speech_end": -1 if progress.speech_end is None else progress.speech_end,
                  "sequence": progress.sequence, "open_reply": progress.open_reply}
        args = [owner, self._ttl, progress.turn_audio_op, progress.turn_pcm, progress.append_at]
        for name, value in fields.items():
            args += [name, value]
        saved = await self._save_progress(
            keys=[keys["owner"], keys["state"], keys["turn_audio"], keys["meta"], keys["history"], keys["events"],
                  keys["audio"], f"sl:resume:{resume_token}"], args=args)
        if saved == 0:
            raise SessionTakenOver("this session was resumed by another connection")
        if saved < 0:
            raise SessionOutOfStep("no owner: Redis lost the session" if saved == -1 else "turn audio out of step")

    @timed
    async def append_history(self, sid: str, owner: str, turns: Sequence[ChatTurn], expected_length: int) -> None:
        """Appends `turns` to a history of `expected_length` entries. SessionTakenOver if another
        connection owns the session, SessionOutOfStep if the history is not that long."""
        if not turns:
            return
        added = await self._append_history(
            keys=[_keys(sid)["history"], _keys(sid)["owner"]],
            args=[owner, expected_length, self._ttl, *(json.dumps(dataclasses.asdict(t)) for t in turns)])
        if added == 0:
            raise SessionTakenOver("this session was resumed by another connection")
        if added < 0:
            raise SessionOutOfStep("history out of step")

    @timed
    async def restore(self, snapshot: SessionSnapshot, history: Sequence[ChatTurn]) -> None:
        """Rewrites what the connection owning the session knows and Redis may lack: the config and
        resume token, the owner key (taken only if nobody holds it) and the whole history. The
        per-chunk state follows with the next save_progress."""
        keys = _keys(snapshot.session_id)
        claimed = await self._redis.set(keys["owner"], snapshot.owner, ex=self._ttl, nx=True)
        if not claimed and await self._redis.get(keys["owner"]) != snapshot.owner.encode():
            raise SessionTakenOver("this session was resumed by another connection")
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(keys["meta"], mapping={"config": snapshot.config.SerializeToString(),
                                         "resume_token": snapshot.resume_token})
        pipe.set(f"sl:resume:{snapshot.resume_token}", snapshot.session_id, ex=self._ttl)
        pipe.delete(keys["history"])
        if history:
            pipe.rpush(keys["history"], *(json.dumps(dataclasses.asdict(t)) for t in history))
        for key in (keys["meta"], keys["history"], keys["owner"]):
            pipe.expire(key, self._ttl)
        await pipe.execute()

    @timed
    async def append_events(self, sid: str, owner: str, events: Sequence[interaction_pb2.ConverseResponse]) -> None:
        """Logs `events` (reply audio in its own, shorter log). SessionTakenOver if another connection
        owns the session."""
        keys = _keys(sid)
        args: list = [owner, self._ttl, self._event_log_max, self._audio_log_max]
        for event in events:
            args += [1 if event.HasField("reply_audio") else 0, event.sequence, event.SerializeToString()]
        if not await self._append_events(keys=[keys["events"], keys["audio"], keys["owner"]], args=args):
            raise SessionTakenOver("this session was resumed by another connection")

    @timed
    async def events_after(self, sid: str, sequence: int) -> list[interaction_pb2.ConverseResponse]:
        """Logged events with a sequence number above `sequence`, oldest first, each once (a batch
        written again after a timeout may be in the log twice). Reply audio older than the audio
        log's window is gone: replay skips it."""
        keys = _keys(sid)
        pipe = self._redis.pipeline(transaction=False)
        pipe.xrange(keys["events"])
        pipe.xrange(keys["audio"])
        logged, audio = await pipe.execute()
        events: dict[int, interaction_pb2.ConverseResponse] = {}
        for _, fields in [*logged, *audio]:
            seq = int(fields[b"seq"])
            if seq > sequence and seq not in events:
                events[seq] = interaction_pb2.ConverseResponse.FromString(fields[b"ev"])
        return [events[seq] for seq in sorted(events)]
