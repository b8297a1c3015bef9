"""A gateway that stops (SIGTERM, a rolling restart) hands its live calls over instead of cutting
them: each session saves its progress and ends UNAVAILABLE with a message saying to resume, at
once rather than after the grace period, and the caller resumes it on another gateway. A real
gateway on loopback (scripted stages, real Redis), a caller on the public gRPC API."""
from __future__ import annotations

import asyncio
import time

import grpc
import numpy as np
import pytest

from services.gateway.server import start_gateway
from soundloop.client import CallerScript, converse
from soundloop.settings import Settings
from soundloop.v1 import audio_pb2, interaction_pb2 as pb

from .scripted_stages import Said, ScriptedStages

pytestmark = pytest.mark.integration

PCM16K = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)


async def test_a_stopping_gateway_hands_its_calls_over_to_be_resumed(redis_url):
    stages = ScriptedStages([Said(0.5, 1.5, "What time is it?")], {"What time is it?": 0.95}, reply="It is noon.")
    settings = Settings(redis_url=redis_url)
    first = await start_gateway(settings, stages, "127.0.0.1:0")
    second = await start_gateway(settings, stages, "127.0.0.1:0")
    try:
        events: list = []

        async def stop_soon():
            await asyncio.sleep(3.0)  # the question has been answered; the call is still open
            started = time.monotonic()
            await first.stop(grace_s=5.0)
            return time.monotonic() - started

        stopping = asyncio.create_task(stop_soon())
        script = CallerScript(np.zeros(16000 * 10, np.float32), 16000, tail_s=0.0, stop_after_turns=None)
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await converse(f"127.0.0.1:{first.port}", pb.SessionConfig(input_audio=PCM16K), script,
                           on_event=events.append)
        stop_took = await stopping
        assert ended.value.code() == grpc.StatusCode.UNAVAILABLE and "resume" in ended.value.details()
        assert stop_took < 2.0  # handed over at once, not after the 5 s grace
        token = next(e.event.session_started.resume_token for e in events if e.kind == "session_started")
        last = events[-1].event.sequence
        assert any(e.kind == "turn_completed" for e in events)

        resumed = await converse(f"127.0.0.1:{second.port}",
                                 pb.SessionConfig(input_audio=PCM16K, resume_token=token, replay_after_sequence=last),
                                 CallerScript(np.zeros(8000, np.float32), 16000, tail_s=0.0, stop_after_turns=None))
        started = resumed.of("session_started")[0].event
        assert started.session_started.resumed and started.sequence == last + 1  # nothing missed, nothing twice
    finally:
        await first.stop(grace_s=0)
        await second.stop(grace_s=0)


async def test_a_resume_numbers_on_after_the_last_event_the_caller_saw_even_if_the_log_lacks_it(redis_url):
    """A gateway SIGKILLed between sending an event and logging it: the caller has a number the log does
    not. The resumed session's numbers go on after the caller's, so none is given out twice."""
    stages = ScriptedStages([], {})
    gateway = await start_gateway(Settings(redis_url=redis_url), stages, "127.0.0.1:0")
    try:
        address = f"127.0.0.1:{gateway.port}"
        script = CallerScript(np.zeros(8000, np.float32), 16000, tail_s=0.0, stop_after_turns=None)
        first = await converse(address, pb.SessionConfig(input_audio=PCM16K), script)
        token, last = first.resume_token, first.events[-1].event.sequence
        resumed = await converse(address, pb.SessionConfig(input_audio=PCM16K, resume_token=token,
                                                           replay_after_sequence=last + 3), script)
        started = resumed.of("session_started")[-1].event
        assert started.session_started.resumed and started.sequence == last + 4
    finally:
        await gateway.stop(grace_s=0)


class StagesThatNeverClose(ScriptedStages):
    async def close(self) -> None:
        await asyncio.Event().wait()  # e.g. a channel whose close waits on a stuck call


async def test_a_stop_step_that_hangs_is_cut_short_named_in_the_log_and_the_stop_goes_on(redis_url, monkeypatch,
                                                                                           caplog):
    monkeypatch.setattr("services.gateway.server.STEP_LIMIT_S", 0.5)
    stages = StagesThatNeverClose([], {})
    gateway = await start_gateway(Settings(redis_url=redis_url), stages, "127.0.0.1:0")
    started = time.monotonic()
    await asyncio.wait_for(gateway.stop(grace_s=0), 30)
    assert time.monotonic() - started < 5
    overrun = [r.getMessage() for r in caplog.records if "did not stop" in r.getMessage()]
    assert len(overrun) == 1 and "the stage clients" in overrun[0], overrun
    assert "close (test_drain.py" in overrun[0]  # where the stuck task waits
