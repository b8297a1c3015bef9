"""The gateway calls every hot-path stage method once before it serves, and survives a stage that is down."""
from __future__ import annotations

import asyncio
import logging

import pytest

from services.gateway.warm_up import warm_up
from soundloop import errors

from .scripted_stages import ScriptedStages, Timings

pytestmark = pytest.mark.unit


class Recording(ScriptedStages):
    def __init__(self, down: str = ""):
        super().__init__([], {}, reply="Hi.", timings=Timings(asr_s=0.0, llm_first_token_s=0.0, tts_first_audio_s=0.0))
        self.called: list[str] = []
        self.down = down

    def _mark(self, name: str) -> None:
        self.called.append(name)
        if name == self.down:
            raise errors.Unavailable(f"{name} is not up yet", stage=name)

    async def analyze_chunk(self, req):
        self._mark("analyze_chunk")
        return await super().analyze_chunk(req)

    async def transcribe_utterance(self, req):
        self._mark("transcribe_utterance")
        return await super().transcribe_utterance(req)

    async def decide(self, req):
        self._mark("decide")
        return await super().decide(req)

    async def generate(self, req):
        self._mark("generate")
        async for r in super().generate(req):
            yield r

    async def synthesize(self, req):
        self._mark("synthesize")
        async for r in super().synthesize(req):
            yield r


def test_every_hot_path_method_is_called_once():
    stages = Recording()
    asyncio.run(warm_up(stages, "You are helpful."))
    assert sorted(stages.called) == ["analyze_chunk", "decide", "generate", "synthesize", "transcribe_utterance"]
    assert stages.prompts == ["Hello."]


def test_a_stage_that_is_down_is_logged_not_fatal(caplog):
    stages = Recording(down="decide")
    with caplog.at_level(logging.WARNING, logger="services.gateway.warm_up"):
        asyncio.run(warm_up(stages, "You are helpful."))
    assert "decider stage failed" in caplog.text and len(stages.called) == 5
