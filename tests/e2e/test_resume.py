"""Resuming a session through the public API: replay, history and ownership across connections.

Barge-in, and resuming in the middle of a turn, are tested on virtual time in
tests/gateway/test_orchestration.py, and barge-in on real models by the
benchmark's smoke run (tests/bench/test_smoke.py).
"""
from __future__ import annotations

import asyncio

import grpc
import pytest

from services.gateway.session_store import SessionStore
from soundloop.client import CallerScript, converse
from soundloop.v1 import audio_pb2, interaction_pb2 as pb
from tests.support.audio import RATE, join, silence, speak

pytestmark = pytest.mark.e2e

PCM16K = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)


async def test_resume_after_disconnect_continues_the_conversation(gateway, redis_url):
    first = await converse(gateway, pb.SessionConfig(input_audio=PCM16K),
                           CallerScript(join(silence(0.4), speak("My name is Alice."), silence(0.2)), RATE))
    assert first.resume_token
    last_seq = first.events[-1].event.sequence

    resumed = await converse(
        gateway, pb.SessionConfig(resume_token=first.resume_token, replay_after_sequence=last_seq - 3,
                                  input_audio=PCM16K),  # the client encodes with it; the server uses the stored one
        CallerScript(join(silence(0.4), speak("What is my name?"), silence(0.2)), RATE))

    started = resumed.of("session_started")[0].event.session_started
    assert started.resumed and started.session_id == first.session_id
    replayed = [e.event.sequence for e in resumed.events[:3]]
    assert replayed == [last_seq - 2, last_seq - 1, last_seq]  # the events after the given sequence
    # The session's audio clock goes on from where the first connection left it.
    first_audio_end = max(e.event.audio_offset.ToMilliseconds() for e in first.events)
    assert min(e.event.audio_offset.ToMilliseconds() for e in resumed.events[3:]) >= first_audio_end - 100
    new_sequences = [e.event.sequence for e in resumed.events[3:]]
    assert new_sequences[0] == last_seq + 1 and new_sequences == sorted(new_sequences)
    store = SessionStore.from_url(redis_url)
    snapshot = await store.load(first.resume_token)
    await store.close()
    users = [t.content.lower() for t in snapshot.history if t.role == "user"]
    assert len(users) == 2 and "alice" in users[0] and "name" in users[1]


async def _open_and_speak(gateway: str, audio):
    """Opens a session, streams `audio` at real-time pace; returns (call, channel, resume token)."""
    from soundloop.audio import codec
    from soundloop.client import channel
    from soundloop.v1 import interaction_pb2_grpc
    ch = channel(gateway)
    call = interaction_pb2_grpc.InteractionStub(ch).Converse()
    await call.write(pb.ConverseRequest(config=pb.SessionConfig(input_audio=PCM16K)))
    started = await call.read()
    fmt = codec.Format.from_proto(PCM16K)
    data = codec.encode(fmt, audio)
    for i in range(0, len(data), 640):
        await call.write(pb.ConverseRequest(audio=pb.AudioChunk(data=data[i:i + 640])))
        await asyncio.sleep(0.02)
    return call, ch, started.session_started.resume_token


async def test_the_newest_connection_owns_a_resumed_session(gateway):
    first, ch, token = await _open_and_speak(gateway, silence(0.5))
    second = await converse(gateway, pb.SessionConfig(resume_token=token, replay_after_sequence=10**9,
                                                      input_audio=PCM16K),
                            CallerScript(join(silence(0.3), speak("Hello there."), silence(0.2)), RATE))
    assert second.of("session_started")[0].event.session_started.resumed
    # The first connection learns at its next chunk that it no longer owns the session.
    for _ in range(10):
        await first.write(pb.ConverseRequest(audio=pb.AudioChunk(data=b"\x00\x00" * 320)))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        while True:
            event = await first.read()
            assert event is not grpc.aio.EOF, "the stream ended without a status"
    assert err.value.code() == grpc.StatusCode.ABORTED and "another connection" in err.value.details()
    await ch.close()
