"""Barge-in (the reply stops, the history keeps only what was heard) and resuming a session."""
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
LONG_REPLIES = ("You are a storyteller. Always answer with a long story of at least eight sentences.")


async def test_barge_in_stops_the_reply_and_truncates_history(gateway, redis_url):
    question = join(silence(0.4), speak("Tell me a long story about a dragon."), silence(0.2))
    interruption = speak("Wait, what is the weather like in Paris today?")
    script = CallerScript(question, RATE, barge_in=interruption, barge_in_delay_s=0.8, stop_after_turns=2,
                          tail_s=25, playback_lag_s=0.3)
    record = await converse(gateway, pb.SessionConfig(input_audio=PCM16K, instructions=LONG_REPLIES), script)

    assert record.barge_in_at is not None, "the first reply ended before the caller could barge in"
    interrupted = record.of("turn_interrupted")
    assert interrupted, [e.kind for e in record.events]
    turn = interrupted[0].event.turn_interrupted
    assert turn.turn_id == record.of("turn_started")[0].event.turn_started.turn_id
    actions = record.actions()
    assert pb.ACTION_PAUSE_SPEAKING in actions and pb.ACTION_STOP_SPEAKING in actions
    # No audio of the interrupted turn after the interruption.
    late = [e for e in record.of("reply_audio") if e.event.reply_audio.turn_id == turn.turn_id
            and e.event.sequence > interrupted[0].event.sequence]
    assert late == []
    # The caller's playback reports lag 300 ms behind what arrived: what it heard is what it reported.
    sent = sum(len(e.event.reply_audio.data) // 2 for e in record.of("reply_audio")
               if e.event.reply_audio.turn_id == turn.turn_id)
    assert 0 < turn.samples_heard <= sent - int(0.3 * 16000) + 1
    # The full reply text was longer than what was heard; the history keeps the heard part only.
    full_text = "".join(e.event.reply_text.delta for e in record.of("reply_text")
                        if e.event.reply_text.turn_id == turn.turn_id)
    assert len(turn.heard_text) < len(full_text)
    store = SessionStore.from_url(redis_url)
    snapshot = await store.load(record.resume_token)
    await store.close()
    assistant = [t.content for t in snapshot.history if t.role == "assistant"]
    assert turn.heard_text == "" or turn.heard_text in assistant
    assert full_text not in assistant
    # The new content gets its own answer.
    finals = record.final_transcripts()
    assert any("weather" in f.lower() or "paris" in f.lower() for f in finals), finals


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


async def test_a_turn_cut_off_by_a_disconnect_is_answered_after_resume(gateway):
    # The caller asks, and the line drops before any answer: the question lives on in Redis.
    call, ch, token = await _open_and_speak(gateway, join(silence(0.3), speak("What is the capital of France?")))
    call.cancel()
    await ch.close()

    resumed = await converse(gateway, pb.SessionConfig(resume_token=token, replay_after_sequence=10**9,
                                                       input_audio=PCM16K), CallerScript(silence(1.0), RATE))

    finals = resumed.final_transcripts()
    assert finals and "capital" in finals[0].lower() and "france" in finals[0].lower(), finals
    assert resumed.reply_text().strip()


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
