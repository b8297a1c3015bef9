"""Everything needed to continue a session, kept in Redis.

Keys share the hash tag `{session id}` so one session lives on one Redis Cluster
slot. Per session:
  sl:{sid}:meta     hash: config (SessionConfig bytes), resume token, counters
  sl:{sid}:history  list: conversation messages as JSON, oldest first
  sl:{sid}:state    hash: encoder and decider state (bytes), audio clock and counters
  sl:{sid}:events   stream: every event sent, field `ev` = ConverseResponse bytes
  sl:resume:<token> string: session id
All keys expire `ttl_s` after the session was last touched. Any gateway replica
can pick a session up from these keys alone.
"""
from __future__ import annotations

import dataclasses
import json
import secrets
import uuid
from collections.abc import Sequence

import redis.asyncio as aioredis

from soundloop.decider.v1 import decider_pb2
from soundloop.v1 import interaction_pb2


class SessionNotFound(LookupError):
    """The resume token is unknown or its session has expired."""


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


def _keys(sid: str) -> dict[str, str]:
    base = f"sl:{{{sid}}}"
    return {"meta": f"{base}:meta", "history": f"{base}:history", "state": f"{base}:state",
            "events": f"{base}:events"}


class SessionStore:
    def __init__(self, client: aioredis.Redis, ttl_s: int = 3600, event_log_max: int = 5000):
        self._redis = client
        self._ttl = ttl_s
        self._event_log_max = event_log_max

    @classmethod
    def from_url(cls, url: str, ttl_s: int = 3600, event_log_max: int = 5000) -> SessionStore:
        return cls(aioredis.from_url(url), ttl_s, event_log_max)

    async def close(self) -> None:
        await self._redis.aclose()

    async def ping(self) -> None:
        await self._redis.ping()

    async def create(self, config: interaction_pb2.SessionConfig) -> SessionSnapshot:
        sid = uuid.uuid4().hex
        token = secrets.token_urlsafe(24)
        keys = _keys(sid)
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(keys["meta"], mapping={"config": config.SerializeToString(), "resume_token": token})
        pipe.set(f"sl:resume:{token}", sid)
        await pipe.execute()
        await self.touch(sid, token)
        return SessionSnapshot(sid, token, config, [], b"", decider_pb2.DeciderState(), 0, 0, 0, 0.0)

    async def load(self, resume_token: str) -> SessionSnapshot:
        sid = await self._redis.get(f"sl:resume:{resume_token}")
        if sid is None:
            raise SessionNotFound("unknown or expired resume token")
        sid = sid.decode()
        keys = _keys(sid)
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(keys["meta"])
        pipe.lrange(keys["history"], 0, -1)
        pipe.hgetall(keys["state"])
        pipe.xrevrange(keys["events"], count=1)
        meta, history, state, last = await pipe.execute()
        if not meta:
            raise SessionNotFound("unknown or expired resume token")
        config = interaction_pb2.SessionConfig.FromString(meta[b"config"])
        decider_state = decider_pb2.DeciderState.FromString(state.get(b"decider", b""))
        last_sequence = int(last[0][1][b"seq"]) if last else 0
        await self.touch(sid, resume_token)
        return SessionSnapshot(
            session_id=sid, resume_token=resume_token, config=config,
            history=[ChatTurn(**json.loads(item)) for item in history],
            encoder_state=state.get(b"encoder", b""), decider_state=decider_state,
            last_sequence=last_sequence, turns=int(state.get(b"turns", 0)),
            utterances=int(state.get(b"utterances", 0)), audio_ms=float(state.get(b"audio_ms", 0.0)))

    async def touch(self, sid: str, resume_token: str) -> None:
        """Pushes the expiry of every key of the session `ttl_s` into the future."""
        pipe = self._redis.pipeline(transaction=False)
        for key in _keys(sid).values():
            pipe.expire(key, self._ttl)
        pipe.expire(f"sl:resume:{resume_token}", self._ttl)
        await pipe.execute()

    async def save_progress(self, sid: str, *, encoder_state: bytes, decider_state: decider_pb2.DeciderState,
                            audio_ms: float, turns: int, utterances: int) -> None:
        """Everything that advances per chunk, in one round trip (~0.1 ms; a stage call is ~2 ms)."""
        await self._redis.hset(_keys(sid)["state"], mapping={
            "encoder": encoder_state, "decider": decider_state.SerializeToString(),
            "audio_ms": audio_ms, "turns": turns, "utterances": utterances})

    async def append_history(self, sid: str, turns: Sequence[ChatTurn]) -> None:
        if turns:
            await self._redis.rpush(_keys(sid)["history"], *(json.dumps(dataclasses.asdict(t)) for t in turns))

    async def append_events(self, sid: str, events: Sequence[interaction_pb2.ConverseResponse]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for event in events:
            pipe.xadd(_keys(sid)["events"], {"seq": event.sequence, "ev": event.SerializeToString()},
                      maxlen=self._event_log_max, approximate=True)
        await pipe.execute()

    async def events_after(self, sid: str, sequence: int) -> list[interaction_pb2.ConverseResponse]:
        """Logged events with a sequence number above `sequence`, oldest first."""
        entries = await self._redis.xrange(_keys(sid)["events"])
        events = [interaction_pb2.ConverseResponse.FromString(fields[b"ev"]) for _, fields in entries]
        return [e for e in events if e.sequence > sequence]

    async def exists(self, sid: str) -> bool:
        return bool(await self._redis.exists(_keys(sid)["meta"]))
