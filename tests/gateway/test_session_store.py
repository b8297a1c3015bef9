"""SessionStore against a real Redis: everything a resumed session needs comes back."""
import pytest

from services.gateway.session_store import (
    ChatTurn,
    OpenTurn,
    Progress,
    SessionNotFound,
    SessionOutOfStep,
    SessionStore,
    SessionStoreUnavailable,
    SessionTakenOver,
    key_prefix,
)
from soundloop.decider.v1 import decider_pb2
from soundloop.local_redis import free_port
from soundloop.v1 import audio_pb2, interaction_pb2 as pb

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(redis_url):
    store = SessionStore.from_url(redis_url, ttl_s=60, event_log_max=100)
    yield store
    await store.close()


def _config() -> pb.SessionConfig:
    return pb.SessionConfig(input_audio=audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_MULAW,
                                                              sample_rate_hz=8000), instructions="be brief")


async def test_resume_restores_config_history_state_and_events(store):
    created = await store.create(_config())
    await store.append_history(created.session_id, created.owner,
                               [ChatTurn("user", "hi"), ChatTurn("assistant", "hello")], 0)
    progress = Progress(b"\x01encoder", decider_pb2.DeciderState(answered_utterance=3), 12340.0, 2, 4,
                        turn_start=16000, speech_end=None, turn_audio_op="set", turn_pcm=b"ab")
    await store.save_progress(created.session_id, created.resume_token, created.owner, progress)
    progress.turn_audio_op, progress.turn_pcm, progress.append_at, progress.speech_end = "append", b"cd", 2, 16002
    await store.save_progress(created.session_id, created.resume_token, created.owner, progress)
    events = [pb.ConverseResponse(sequence=i, error=pb.Error(code="X", message=str(i))) for i in range(1, 6)]
    await store.append_events(created.session_id, created.owner, events)

    loaded = await store.load(created.resume_token)

    assert loaded.session_id == created.session_id
    assert loaded.config.instructions == "be brief"
    assert [t.content for t in loaded.history] == ["hi", "hello"]
    assert loaded.encoder_state == b"\x01encoder"
    assert loaded.decider_state.answered_utterance == 3
    assert loaded.last_sequence == 5
    assert (loaded.turns, loaded.utterances, loaded.audio_ms) == (2, 4, 12340.0)
    assert loaded.open_turn == OpenTurn(16000, b"abcd", 16002)
    replay = await store.events_after(created.session_id, 3)
    assert [e.sequence for e in replay] == [4, 5]


async def test_unknown_token_is_not_found(store):
    with pytest.raises(SessionNotFound):
        await store.load("no-such-token")


async def test_every_key_expires_and_a_newer_connection_takes_over(store, redis_url):
    import redis.asyncio as aioredis
    created = await store.create(_config())
    sid = created.session_id
    await store.append_history(sid, created.owner, [ChatTurn("user", "hi")], 0)
    await store.append_events(sid, created.owner, [pb.ConverseResponse(sequence=1)])
    progress = Progress(b"e", decider_pb2.DeciderState(), 100.0, 0, 1, 0, None, "set", b"pcm")
    await store.save_progress(sid, created.resume_token, created.owner, progress)
    client = aioredis.from_url(redis_url)
    keys = [k.decode() for k in await client.keys(key_prefix(sid) + ":*")] + [f"sl:resume:{created.resume_token}"]
    ttls = {key: await client.ttl(key) for key in keys}
    await client.aclose()
    assert len(keys) == 7 and all(0 < ttl <= 60 for ttl in ttls.values()), ttls

    newer = await store.load(created.resume_token)
    await store.save_progress(sid, created.resume_token, newer.owner, progress)
    with pytest.raises(SessionTakenOver):
        await store.save_progress(sid, created.resume_token, created.owner, progress)


async def _ttls(redis_url: str, sid: str, token: str) -> dict[str, int]:
    import redis.asyncio as aioredis
    client = aioredis.from_url(redis_url)
    keys = [k.decode() for k in await client.keys(key_prefix(sid) + ":*")] + [f"sl:resume:{token}"]
    ttls = {key: await client.ttl(key) for key in keys}
    await client.aclose()
    return ttls


async def test_a_text_only_session_s_keys_expire_too(store, redis_url):
    # No audio, so no per-chunk save refreshes them: history and event appends set their own expiry.
    created = await store.create(_config())
    await store.append_history(created.session_id, created.owner,
                               [ChatTurn("user", "hi"), ChatTurn("assistant", "hello")], 0)
    await store.append_events(created.session_id, created.owner, [pb.ConverseResponse(sequence=1)])
    ttls = await _ttls(redis_url, created.session_id, created.resume_token)
    assert {k.rsplit(":", 1)[1] for k in ttls} >= {"history", "events", "meta", "owner"}
    assert all(0 < ttl <= 60 for ttl in ttls.values()), ttls


async def test_appends_land_where_the_writer_expects_or_say_they_are_out_of_step(store):
    created = await store.create(_config())
    sid, token, owner = created.session_id, created.resume_token, created.owner
    await store.append_history(sid, owner, [ChatTurn("user", "one")], 0)
    with pytest.raises(SessionOutOfStep):  # a history append that Redis missed (or took twice)
        await store.append_history(sid, owner, [ChatTurn("user", "three")], 2)
    progress = Progress(b"e", decider_pb2.DeciderState(), 100.0, 0, 1, 0, None, "set", b"ab")
    await store.save_progress(sid, token, owner, progress)
    progress.turn_audio_op, progress.turn_pcm, progress.append_at = "append", b"cd", 2
    await store.save_progress(sid, token, owner, progress)
    with pytest.raises(SessionOutOfStep):  # the same chunk again (a retry of a write that did run)
        await store.save_progress(sid, token, owner, progress)
    assert (await store.load(token)).open_turn.pcm == b"abcd"
    assert [t.content for t in (await store.load(token)).history] == ["one"]


async def test_restore_rewrites_a_session_redis_lost(store, redis_url):
    import redis.asyncio as aioredis
    created = await store.create(_config())
    await store.append_history(created.session_id, created.owner, [ChatTurn("user", "hi")], 0)
    client = aioredis.from_url(redis_url)
    await client.delete(*[k for k in await client.keys(key_prefix(created.session_id) + ":*")],
                        f"sl:resume:{created.resume_token}")  # as after a restart without persistence
    await client.aclose()
    progress = Progress(b"e", decider_pb2.DeciderState(), 100.0, 1, 1, 0, None, "set", b"ab")
    with pytest.raises(SessionOutOfStep):
        await store.save_progress(created.session_id, created.resume_token, created.owner, progress)
    await store.restore(created, [ChatTurn("user", "hi"), ChatTurn("assistant", "hello")])
    await store.save_progress(created.session_id, created.resume_token, created.owner, progress)
    loaded = await store.load(created.resume_token)
    assert loaded.config.instructions == "be brief"
    assert [t.content for t in loaded.history] == ["hi", "hello"]
    assert loaded.open_turn.pcm == b"ab"
    # A restore never takes a session another connection owns.
    with pytest.raises(SessionTakenOver):
        await store.restore(created, [])


async def test_a_batch_logged_twice_is_replayed_once(store):
    created = await store.create(_config())
    events = [pb.ConverseResponse(sequence=i) for i in (1, 2, 3)]
    await store.append_events(created.session_id, created.owner, events)
    await store.append_events(created.session_id, created.owner, events[1:])  # re-sent: a timeout hid success
    assert [e.sequence for e in await store.events_after(created.session_id, 0)] == [1, 2, 3]


async def test_an_unreachable_redis_is_unavailable_with_a_message_of_ours():
    store = SessionStore.from_url(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.5)
    try:
        with pytest.raises(SessionStoreUnavailable) as raised:
            await store.create(_config())
        assert raised.value.code.name == "UNAVAILABLE"
        assert "127.0.0.1" not in raised.value.caller_message() and "Errno" not in raised.value.caller_message()
    finally:
        await store.close()


async def test_after_a_takeover_the_old_connection_writes_nothing_into_the_session(store):
    created = await store.create(_config())
    sid = created.session_id
    await store.append_events(sid, created.owner, [pb.ConverseResponse(sequence=1)])
    newer = await store.load(created.resume_token)  # claims first, then reads: the last number is final
    assert newer.last_sequence == 1
    with pytest.raises(SessionTakenOver):
        await store.append_events(sid, created.owner, [pb.ConverseResponse(sequence=2)])
    with pytest.raises(SessionTakenOver):
        await store.append_history(sid, created.owner, [ChatTurn("user", "late")], 0)
    await store.append_events(sid, newer.owner, [pb.ConverseResponse(sequence=2, error=pb.Error(code="NEW"))])
    assert [(e.sequence, e.error.code) for e in await store.events_after(sid, 0)] == [(1, ""), (2, "NEW")]
    assert (await store.load(created.resume_token)).history == []


def _audio_event(seq: int) -> pb.ConverseResponse:
    return pb.ConverseResponse(sequence=seq, reply_audio=pb.ReplyAudio(turn_id="t1", data=b"\x00" * 3200))


async def test_reply_audio_has_its_own_short_log_and_the_numbers_go_on_from_both(store):
    created = await store.create(_config())
    sid = created.session_id
    events = [pb.ConverseResponse(sequence=1)] + [_audio_event(seq) for seq in range(2, 1002)]
    await store.append_events(sid, created.owner, events)
    replay = await store.events_after(sid, 0)
    assert replay[0].sequence == 1  # a transcript or decision outlives old reply audio
    audio = [e.sequence for e in replay if e.HasField("reply_audio")]
    assert 300 <= len(audio) <= 400 and audio[-1] == 1001  # the last ~30 s (trimmed by whole stream nodes)
    assert (await store.load(created.resume_token)).last_sequence == 1001


async def test_memory_per_session_is_bounded(redis_url):
    """The worst case the settings allow, measured: a full event log, a full audio log of 16 kHz
    reply audio, a 28 s open turn, 100 history entries (see deploy/README.md, "Redis")."""
    import redis.asyncio as aioredis
    store = SessionStore.from_url(redis_url, ttl_s=60)  # the default log sizes
    created = await store.create(_config())
    sid = created.session_id
    texts = [pb.ConverseResponse(sequence=i, transcript=pb.Transcript(text="what time is it " * 4, is_final=True))
             for i in range(1, 5001)]
    for start in range(0, 5000, 500):
        await store.append_events(sid, created.owner, texts[start:start + 500])
    await store.append_events(sid, created.owner, [_audio_event(seq) for seq in range(5001, 5601)])
    await store.append_history(sid, created.owner, [ChatTurn("user", "x" * 200)] * 100, 0)
    progress = Progress(b"e" * 4096, decider_pb2.DeciderState(), 1e6, 50, 50, 0, None, "set", b"\x00" * 28 * 32000)
    await store.save_progress(sid, created.resume_token, created.owner, progress)
    client = aioredis.from_url(redis_url)
    keys = [k for k in await client.keys(key_prefix(sid) + ":*")] + [f"sl:resume:{created.resume_token}".encode()]
    used = sum([await client.memory_usage(k, samples=0) or 0 for k in keys])
    await client.aclose()
    await store.close()
    print(f"\nRedis memory of one session at the settings' limits: {used / 1e6:.2f} MB")
    assert used < 4e6


async def test_forgetting_a_session_erases_every_key_and_its_resume_token(store, redis_url):
    import redis.asyncio as aioredis
    created = await store.create(_config(), "acme")
    sid = created.session_id
    await store.append_history(sid, created.owner, [ChatTurn("user", "my card number is 4111")], 0)
    await store.append_events(sid, created.owner, [pb.ConverseResponse(sequence=1)])
    assert await store.forget(sid)
    client = aioredis.from_url(redis_url)
    left = await client.keys(key_prefix(sid) + ":*") + await client.keys(f"sl:resume:{created.resume_token}")
    await client.aclose()
    assert left == []
    with pytest.raises(SessionNotFound):
        await store.load(created.resume_token, "acme")
    assert not await store.forget(sid)  # nothing left to forget


def test_the_forget_command_erases_a_session(redis_url):
    import asyncio
    import subprocess
    import sys

    async def create() -> str:
        store = SessionStore.from_url(redis_url)
        try:
            return (await store.create(_config(), "acme")).session_id
        finally:
            await store.close()
    sid = asyncio.run(create())
    command = [sys.executable, "-m", "services.gateway.forget", sid, "--redis-url", redis_url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "every key deleted" in done.stdout, done.stderr
    again = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "nothing stored" in again.stderr
