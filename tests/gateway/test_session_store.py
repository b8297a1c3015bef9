"""SessionStore against a real Redis: everything a resumed session needs comes back."""
import pytest

from services.gateway.session_store import ChatTurn, SessionNotFound, SessionStore
from soundloop.decider.v1 import decider_pb2
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
    await store.append_history(created.session_id, [ChatTurn("user", "hi"), ChatTurn("assistant", "hello")])
    await store.save_progress(created.session_id, encoder_state=b"\x01encoder",
                              decider_state=decider_pb2.DeciderState(answered_utterance=3),
                              audio_ms=12340.0, turns=2, utterances=4)
    events = [pb.ConverseResponse(sequence=i, error=pb.Error(code="X", message=str(i))) for i in range(1, 6)]
    await store.append_events(created.session_id, events)

    loaded = await store.load(created.resume_token)

    assert loaded.session_id == created.session_id
    assert loaded.config.instructions == "be brief"
    assert [t.content for t in loaded.history] == ["hi", "hello"]
    assert loaded.encoder_state == b"\x01encoder"
    assert loaded.decider_state.answered_utterance == 3
    assert loaded.last_sequence == 5
    assert (loaded.turns, loaded.utterances, loaded.audio_ms) == (2, 4, 12340.0)
    replay = await store.events_after(created.session_id, 3)
    assert [e.sequence for e in replay] == [4, 5]


async def test_unknown_token_is_not_found(store):
    with pytest.raises(SessionNotFound):
        await store.load("no-such-token")


async def test_keys_expire(store, redis_url):
    import redis.asyncio as aioredis
    created = await store.create(_config())
    client = aioredis.from_url(redis_url)
    ttl = await client.ttl(f"sl:{{{created.session_id}}}:meta")
    await client.aclose()
    assert 0 < ttl <= 60
