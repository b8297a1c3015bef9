"""When the gateway asks for recognitions of the open caller turn (services/gateway/recognition.py),
on virtual time with scripted stages: the recognition that can end the turn never starts over
behind one that already hears all of it."""
from __future__ import annotations

import asyncio

import pytest

from soundloop.settings import GatewaySettings
from soundloop.v1 import interaction_pb2 as pb

from .call_harness import Call, on_virtual_time
from .scripted_stages import Said, ScriptedStages, Timings

pytestmark = pytest.mark.unit


def recorded_recognitions(stages: ScriptedStages) -> list[tuple[float, float | None]]:
    """(asked, answered) virtual times of every TranscribeUtterance from now on; answered None if cancelled."""
    calls: list[tuple[float, float | None]] = []
    transcribe = stages.transcribe_utterance

    async def recording(req):
        loop = asyncio.get_running_loop()
        index, asked = len(calls), loop.time()
        calls.append((asked, None))
        result = await transcribe(req)
        calls[index] = (asked, loop.time())
        return result
    stages.transcribe_utterance = recording
    return calls


def test_a_partial_asked_as_the_caller_stops_is_the_final_recognition_not_restarted(redis_url):
    # The turn opens at 0.6 s (the chunk that confirms speech); the partial timer (1.05 s) fires at the
    # 1.7 s chunk, after the caller stopped at 1.65 s but before the quiet is long enough (64 ms) for the
    # early recognition. That partial hears every word: the early recognition must not cancel and repeat it.
    said = Said(0.5, 1.65, "What is the capital of France?")
    stages = ScriptedStages([said], {said.text: 0.95}, reply="Paris.", timings=Timings(asr_s=0.3))
    recognitions = recorded_recognitions(stages)

    async def scenario(store):
        call = await Call.open(store, stages, settings=GatewaySettings(partial_transcript_ms=1050))
        streamed_from = asyncio.get_running_loop().time()
        await call.stream(4.0)
        await call.end_of_input()

        assert len(recognitions) == 1 and recognitions[0][1] is not None, recognitions
        # The partial, asked at the chunk that ends 1.7 s into the audio (its last frame left at 1.68 s).
        assert 1.68 <= recognitions[0][0] - streamed_from < 1.72
        final = next(e for e in call.of("transcript") if e.event.transcript.is_final)
        assert final.event.transcript.text == said.text
        respond = next(e for e in call.of("decision") if e.event.decision.action == pb.ACTION_RESPOND)
        assert respond.offset_s == pytest.approx(2.0, abs=0.05)  # the partial's answer: 1.7 + 0.3 s

    on_virtual_time(redis_url, scenario)
