"""Offline tasks over the same stages, reflection on the public server, and the CLI."""
from __future__ import annotations

import pathlib
import subprocess
import sys

import grpc
import numpy as np
import pytest
import soundfile as sf
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from soundloop.audio import codec
from soundloop.client import channel
from soundloop.v1 import audio_pb2, interaction_pb2 as pb, interaction_pb2_grpc
from tests.support.audio import RATE, join, recording, silence, sound

pytestmark = pytest.mark.e2e

HARVARD = pathlib.Path("/usr/share/codec2/raw/speech_orig_16k.wav")
PCM16K = codec.Format(audio_pb2.AUDIO_ENCODING_PCM16LE, 16000)


async def test_transcribe_a_whole_recording(gateway):
    audio = recording(HARVARD)
    async with channel(gateway) as ch:
        result = await interaction_pb2_grpc.InteractionStub(ch).Transcribe(pb.TranscribeRequest(
            audio_format=PCM16K.to_proto(), audio=codec.encode(PCM16K, audio)))
    text = result.text.lower()
    assert "birch canoe" in text and "smooth planks" in text and "four hours" in text, result.text
    # Light profile: Moonshine segments are its decoding windows (up to 20 s); Whisper's are sentences.
    assert len(result.segments) >= 1 and result.segments[-1].end.ToMilliseconds() <= len(audio) / RATE * 1000 + 1
    assert result.duration.ToMilliseconds() == pytest.approx(len(audio) / RATE * 1000, abs=50)


async def test_answer_about_a_clip_with_a_sound(gateway):
    clip = join(silence(0.3), sound("phone-incoming-call"), silence(0.3))
    async with channel(gateway) as ch:
        result = await interaction_pb2_grpc.InteractionStub(ch).AnswerAboutClip(pb.AnswerAboutClipRequest(
            audio_format=PCM16K.to_proto(), audio=codec.encode(PCM16K, clip), instruction="What did you hear?"))
    labels = {e.label for e in result.perception.sound_events}
    assert labels & {"Telephone", "Telephone bell ringing", "Ringtone", "Alarm"}, labels
    assert result.answer.strip()


async def test_offline_bad_audio_is_invalid_argument(gateway):
    async with channel(gateway) as ch:
        stub = interaction_pb2_grpc.InteractionStub(ch)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.Transcribe(pb.TranscribeRequest(audio_format=PCM16K.to_proto(), audio=b"\x00" * 3))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "even byte count" in err.value.details()


async def test_public_server_has_reflection_and_health(gateway):
    async with channel(gateway) as ch:
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        async for response in stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(
                list_services="")])):
            services = {s.name for s in response.list_services_response.service}
            break
    assert {"soundloop.v1.Interaction", "grpc.health.v1.Health"} <= services


def test_cli_converse_prints_events_and_writes_the_reply(gateway, tmp_path):
    wav = tmp_path / "caller.wav"
    from soundloop.demo import speak
    sf.write(wav, join(silence(0.3), speak("What is your name?"), silence(0.3)), RATE)
    out = tmp_path / "reply.wav"
    done = subprocess.run([sys.executable, "-m", "soundloop.cli", "converse", str(wav), "--address", gateway,
                           "--encoding", "mulaw", "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "FINAL" in done.stdout and "ACTION_RESPOND" in done.stdout and "turn_completed" in done.stdout
    reply, rate = sf.read(out)
    assert rate == 8000 and np.abs(reply).max() > 0.01 and len(reply) > rate // 2


def test_cli_transcribe(gateway):
    done = subprocess.run([sys.executable, "-m", "soundloop.cli", "transcribe", str(HARVARD), "--address", gateway],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "birch canoe" in done.stdout.lower()


def test_cli_serve_stops_everything_it_started_on_sigterm(redis_url):
    import os
    import signal
    import time

    from soundloop.local_redis import free_port
    proc = subprocess.Popen([sys.executable, "-m", "soundloop.cli", "serve", "--profile", "light", "--mode",
                             "processes", "--port", str(free_port()), "--redis-url", redis_url],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:
            if "ready:" in line:
                break
        else:
            pytest.fail("soundloop serve exited before it was ready")
        children = [int(p) for p in subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                                   text=True).stdout.split()]
        assert len(children) == 5  # four stage servers and the gateway
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        deadline = time.monotonic() + 10
        alive = children
        while alive and time.monotonic() < deadline:
            alive = [pid for pid in alive if os.path.exists(f"/proc/{pid}") and
                     open(f"/proc/{pid}/stat").read().split()[2] != "Z"]
            time.sleep(0.1)
        assert alive == []
    finally:
        proc.kill()
