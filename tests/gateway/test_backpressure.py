"""Backpressure on what one caller can ask of the gateway (scripted stages, real Redis, virtual
time): audio sent faster than real time is read no faster than `max_ahead_s` ahead of it, typed
messages queue only so deep, offline clips have a length limit."""
from __future__ import annotations

import asyncio

import pytest

from services.gateway.offline import OfflineTasks
from soundloop.errors import InvalidRequest
from soundloop.settings import GatewaySettings
from soundloop.v1 import audio_pb2, interaction_pb2 as pb

from .call_harness import FRAME, Call, on_virtual_time
from .scripted_stages import ScriptedStages

pytestmark = pytest.mark.unit


def test_a_caller_sending_ten_times_real_time_is_read_at_real_time_pace(redis_url):
    async def scenario(store):
        call = await Call.open(store, ScriptedStages([], {}), settings=GatewaySettings(max_ahead_s=2.0))
        loop = asyncio.get_running_loop()
        started = loop.time()
        for _ in range(1000):  # 20 s of audio, sent at ten times real time
            await call.conversation.add_audio(FRAME)
            await asyncio.sleep(0.002)
        assert 17.5 <= loop.time() - started <= 18.5  # the audio's 20 s, less the 2 s head start it may have
        await call.end_of_input()

    on_virtual_time(redis_url, scenario)


def test_typed_messages_queue_only_so_deep(redis_url):
    async def scenario(store):
        call = await Call.open(store, ScriptedStages([], {}), settings=GatewaySettings(max_pending_texts=4))
        for i in range(4):
            call.conversation.add_text(f"message {i}")
        with pytest.raises(InvalidRequest, match="4 typed messages are still queued"):
            call.conversation.add_text("one too many")
        await call.end_of_input()

    on_virtual_time(redis_url, scenario)


async def test_a_clip_over_the_limit_is_refused_before_any_stage_is_asked():
    tasks = OfflineTasks(stages=None, max_clip_s=1.0)  # a stage call would fail on None
    request = pb.TranscribeRequest(audio=b"\x00\x00" * 32000, audio_format=audio_pb2.AudioFormat(
        encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000))
    with pytest.raises(InvalidRequest, match="the clip is 2 s of PCM16LE 16000 Hz; the limit is 1 s"):
        await tasks.transcribe(request)
