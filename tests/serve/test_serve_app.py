"""The Ray Serve application on a real local Ray cluster: the gateway replica's own gRPC
port serves callers, and the stages are reached through DeploymentHandles."""
from __future__ import annotations

import pytest

from soundloop.client import CallerScript, converse
from soundloop.local_redis import free_port
from soundloop.serve_runner import serve_app
from soundloop.v1 import audio_pb2, interaction_pb2 as pb
from tests.support.audio import RATE, join, silence, speak

pytestmark = [pytest.mark.serve, pytest.mark.e2e]


@pytest.fixture(scope="module")
def serve_gateway(redis_url):
    with serve_app("light", redis_url, free_port(), progress=lambda _: None) as address:
        yield address


async def test_a_spoken_question_is_answered_through_serve(serve_gateway):
    fmt = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)
    audio = join(silence(0.4), speak("What color is the sky?"), silence(0.2))
    record = await converse(serve_gateway, pb.SessionConfig(input_audio=fmt), CallerScript(audio, RATE))

    finals = record.final_transcripts()
    assert finals and "sky" in finals[0].lower(), finals
    assert record.reply_text().strip()
    assert record.reply_audio
    completed = record.of("turn_completed")
    assert completed and completed[0].event.turn_completed.metrics.HasField("voice_to_voice")
