"""ProgressSaver against a real Redis: per-chunk progress is written at milestones and every
`progress_every_ms` of caller audio, not per chunk, and what a resume reads back is still whole."""
import numpy as np
import pytest

from services.gateway.caller_turn import CallerTurn
from services.gateway.progress import ProgressSaver
from services.gateway.session_store import OpenTurn, SessionStore
from soundloop.decider.v1 import decider_pb2
from soundloop.v1 import interaction_pb2 as pb

pytestmark = pytest.mark.integration

CHUNK_MS, CHUNK_SAMPLES = 100, 1600
SAVE_EVERY_MS = 500


@pytest.fixture
async def store(redis_url):
    store = SessionStore.from_url(redis_url, ttl_s=60, event_log_max=100, progress_every_ms=SAVE_EVERY_MS)
    yield store
    await store.close()


class CountedStore:
    """The real store, counting its progress writes and whole rewrites (a misplaced append causes one)."""

    def __init__(self, store: SessionStore):
        self._store, self.writes, self.rewrites = store, 0, 0

    async def save_progress(self, *args):
        self.writes += 1
        await self._store.save_progress(*args)

    async def restore(self, *args):
        self.rewrites += 1
        await self._store.restore(*args)

    def __getattr__(self, name):
        return getattr(self._store, name)


def _pcm(i: int) -> bytes:
    """A chunk whose bytes say which chunk it is, so a misplaced append shows."""
    return np.full(CHUNK_SAMPLES, i, np.int16).tobytes()


async def _stream(saver: ProgressSaver, caller: CallerTurn, chunks: range, decider: decider_pb2.DeciderState,
                  speech_from: int | None = None) -> None:
    for i in chunks:
        pcm = _pcm(i)
        caller.audio.append(pcm, i * CHUNK_SAMPLES)
        if i == speech_from:
            caller.audio.speech_started(i * CHUNK_SAMPLES)
        await saver.save(b"enc%d" % i, decider, (i + 1) * CHUNK_MS, 0, caller, pcm)


async def test_a_quiet_line_is_written_every_save_interval_not_every_chunk(store):
    created = await store.create(pb.SessionConfig())
    counted = CountedStore(store)
    saver = ProgressSaver(counted, created, lambda: [])
    await _stream(saver, CallerTurn(), range(30), decider_pb2.DeciderState())
    # 3 s of 100 ms chunks: written after the first, then every 500 ms (0.1, 0.6, ..., 2.6 s).
    assert counted.writes == 3000 // SAVE_EVERY_MS, counted.writes
    loaded = await store.load(created.resume_token)
    assert loaded.audio_ms <= 3000 and 3000 - loaded.audio_ms < SAVE_EVERY_MS


async def test_milestones_are_written_at_once_and_the_open_turn_arrives_whole(store):
    created = await store.create(pb.SessionConfig())
    counted = CountedStore(store)
    saver = ProgressSaver(counted, created, lambda: [])
    caller, decider = CallerTurn(), decider_pb2.DeciderState()
    await _stream(saver, caller, range(3), decider)
    writes = counted.writes
    await _stream(saver, caller, range(3, 4), decider, speech_from=3)  # a caller turn opens
    assert counted.writes == writes + 1

    await _stream(saver, caller, range(4, 12), decider)  # it goes on: appended in batches
    answered = decider_pb2.DeciderState(answered_utterance=1, last_action=pb.ACTION_RESPOND)
    writes = counted.writes
    await _stream(saver, caller, range(12, 13), answered)  # the decider acts: written at once
    assert counted.writes == writes + 1
    assert counted.rewrites == 0  # every batched append landed where it belonged
    loaded = await store.load(created.resume_token)
    assert loaded.decider_state.answered_utterance == 1
    assert loaded.open_turn == OpenTurn(caller.audio.turn_start, caller.audio.turn_pcm(), None)


async def test_a_forced_write_leaves_nothing_unsaved(store):
    """What a stopping gateway or a lost caller does (Conversation.close): everything is written."""
    created = await store.create(pb.SessionConfig())
    saver = ProgressSaver(store, created, lambda: [])
    caller, decider = CallerTurn(), decider_pb2.DeciderState()
    await _stream(saver, caller, range(0, 7), decider, speech_from=1)
    await saver.save(b"last", decider, 700.0, 0, caller, force=True)
    loaded = await store.load(created.resume_token)
    assert loaded.encoder_state == b"last" and loaded.audio_ms == 700.0
    assert loaded.open_turn.pcm == caller.audio.turn_pcm()


async def test_progress_every_ms_0_writes_every_chunk(redis_url):
    store = SessionStore.from_url(redis_url, ttl_s=60, progress_every_ms=0)
    try:
        created = await store.create(pb.SessionConfig())
        counted = CountedStore(store)
        await _stream(ProgressSaver(counted, created, lambda: []), CallerTurn(), range(10), decider_pb2.DeciderState())
        assert counted.writes == 10
    finally:
        await store.close()
