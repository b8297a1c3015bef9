"""ReplySpeculator: a prefill still running when the reply's generation starts is cancelled, so the
reply does not wait behind it (the LLM stage finishes a request's prefill before it starts the next)."""
from __future__ import annotations

import asyncio

import pytest

from services.gateway.speculation import ReplySpeculator
from soundloop.llm.v1 import llm_pb2

pytestmark = pytest.mark.unit


class SlowLlm:
    """Streams nothing until released; records which requests were cancelled."""

    def __init__(self):
        self.started: list[str] = []
        self.cancelled: list[str] = []
        self.release = asyncio.Event()

    async def generate(self, req: llm_pb2.GenerateRequest):
        self.started.append(req.turn_id)
        try:
            await self.release.wait()
            yield llm_pb2.GenerateResponse(delta="Paris.")
        except asyncio.CancelledError:
            self.cancelled.append(req.turn_id)
            raise


def question(text: str) -> list[llm_pb2.ChatMessage]:
    return [llm_pb2.ChatMessage(role=llm_pb2.ROLE_USER, content=text)]


async def prefilling() -> tuple[SlowLlm, ReplySpeculator]:
    """A speculator whose prefill of a partial question is under way on a slow LLM."""
    llm = SlowLlm()
    speculator = ReplySpeculator(llm, "s1")
    speculator.prefill(question("What is the capital"))
    await asyncio.sleep(0)
    return llm, speculator


def test_the_reply_generation_cancels_a_running_prefill():
    async def scenario():
        llm, speculator = await prefilling()
        await speculator.want(question("What is the capital of France?"))
        await asyncio.sleep(0)
        assert llm.started == ["prefill", "speculative"] and llm.cancelled == ["prefill"]
        llm.release.set()
        chunks = [c.delta async for c in speculator.adopt(question("What is the capital of France?")).stream()]
        assert chunks == ["Paris."]
        await speculator.close()

    asyncio.run(scenario())


def test_a_prefill_runs_to_its_end_when_no_reply_is_wanted():
    async def scenario():
        llm, speculator = await prefilling()
        await speculator.want(None)
        llm.release.set()
        await asyncio.sleep(0.01)
        assert llm.started == ["prefill"] and llm.cancelled == []
        await speculator.close()

    asyncio.run(scenario())
