"""Bad input gets a clear status code or error event, and nobody else notices."""
from __future__ import annotations

import asyncio

import grpc
import pytest

from soundloop.client import CallerScript, channel, converse
from soundloop.v1 import audio_pb2, interaction_pb2 as pb, interaction_pb2_grpc
from tests.support.audio import RATE, join, silence, speak

pytestmark = pytest.mark.e2e

PCM16K = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)
CONFIG = pb.ConverseRequest(config=pb.SessionConfig(input_audio=PCM16K))
FRAME = b"\x00\x00" * 320  # 20 ms of silence


async def _collect(address: str, requests: list, raw: bool = False, read_timeout: float = 20):
    """Sends `requests` then half-closes; returns (events, status code, details)."""
    async with channel(address) as ch:
        if raw:  # bytes on the wire as they are, garbage included
            call = ch.stream_stream("/soundloop.v1.Interaction/Converse", request_serializer=lambda b: b,
                                    response_deserializer=pb.ConverseResponse.FromString)(iter(requests))
        else:
            call = interaction_pb2_grpc.InteractionStub(ch).Converse(iter(requests))
        events = []
        try:
            async with asyncio.timeout(read_timeout):
                async for event in call:
                    events.append(event)
        except grpc.aio.AioRpcError as err:
            return events, err.code(), err.details()
        return events, grpc.StatusCode.OK, ""


async def test_audio_before_config_is_rejected(gateway):
    _, code, details = await _collect(gateway, [pb.ConverseRequest(audio=pb.AudioChunk(data=FRAME))])
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "first message must be `config`" in details


async def test_missing_and_wrong_config(gateway):
    _, code, details = await _collect(gateway, [pb.ConverseRequest(config=pb.SessionConfig())])
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "input_audio" in details
    bad_rate = pb.SessionConfig(input_audio=audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE,
                                                                  sample_rate_hz=11025))
    _, code, details = await _collect(gateway, [pb.ConverseRequest(config=bad_rate)])
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "11025" in details
    mulaw_16k = pb.SessionConfig(input_audio=audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_MULAW,
                                                                   sample_rate_hz=16000))
    _, code, details = await _collect(gateway, [pb.ConverseRequest(config=mulaw_16k)])
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "8000" in details


@pytest.mark.parametrize("config, message", [
    (pb.SessionConfig(input_audio=PCM16K, sound_policy=pb.SoundPolicy(respond_labels=["Kazoo solo"])),
     "policy.sound_policy.respond_labels: 'Kazoo solo' not a YAMNet class name"),
    (pb.SessionConfig(input_audio=PCM16K, turn_detection=pb.TurnDetection(max_silence_ms=20000)),
     "policy.turn_detection.max_silence_ms is 20000; the limit is 10000"),
    (pb.SessionConfig(input_audio=PCM16K, turn_detection=pb.TurnDetection(min_silence_ms=900, max_silence_ms=400)),
     "policy.turn_detection: max_silence_ms (400) is below min_silence_ms (900)"),
    (pb.SessionConfig(input_audio=PCM16K, sound_policy=pb.SoundPolicy(min_score=1.5)),
     "policy.sound_policy.min_score must be in [0, 1], got 1.5"),
], ids=["unknown sound label", "max silence over the limit", "min silence over max", "min score over 1"])
async def test_the_decider_alone_judges_the_policy(gateway, config, message):
    _, code, details = await _collect(gateway, [pb.ConverseRequest(config=config)])
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.startswith(f"config rejected by the decider: {message}"), details


async def test_unknown_resume_token_is_not_found(gateway):
    resume = pb.SessionConfig(resume_token="not-a-real-token")
    _, code, details = await _collect(gateway, [pb.ConverseRequest(config=resume)])
    assert code == grpc.StatusCode.NOT_FOUND and "resume token" in details


async def test_bad_messages_get_error_events_and_the_session_goes_on(gateway):
    requests = [CONFIG.SerializeToString(),
                pb.ConverseRequest(audio=pb.AudioChunk(data=b"\x00" * 641)).SerializeToString(),  # odd
                pb.ConverseRequest(audio=pb.AudioChunk(data=b"\x00" * 32000)).SerializeToString(),  # 1 s
                b"\xff\xfe garbage \x00\x01",
                pb.ConverseRequest(config=pb.SessionConfig(input_audio=PCM16K)).SerializeToString(),
                *[pb.ConverseRequest(audio=pb.AudioChunk(data=FRAME)).SerializeToString()] * 25,
                pb.ConverseRequest(end_of_input=pb.EndOfInput()).SerializeToString()]
    events, code, details = await _collect(gateway, requests, raw=True)
    assert code == grpc.StatusCode.OK, details
    errors = [e.error for e in events if e.WhichOneof("event") == "error"]
    assert [e.code for e in errors] == ["INVALID_ARGUMENT"] * 4
    messages = " | ".join(e.message for e in errors)
    assert "even byte count" in messages
    assert "at most 200 ms" in messages
    assert "not a ConverseRequest" in messages
    assert "only allowed as the first message" in messages
    assert events[0].WhichOneof("event") == "session_started"


async def test_a_caller_that_never_reads_does_not_hold_up_others(gateway):
    async with channel(gateway) as ch:
        stuck = interaction_pb2_grpc.InteractionStub(ch).Converse()
        await stuck.write(CONFIG)
        for _ in range(50):
            await stuck.write(pb.ConverseRequest(audio=pb.AudioChunk(data=FRAME)))
        # ...and never reads. Meanwhile a normal caller is served.
        audio = join(silence(0.3), speak("What is two plus two?"), silence(0.2))
        record = await converse(gateway, pb.SessionConfig(input_audio=PCM16K), CallerScript(audio, RATE))
        assert record.final_transcripts() and record.reply_audio
        stuck.cancel()
