"""Ray Serve deployment of the LLM stage: the same methods as `LlmStage`, one model per replica.

    response = handle.options(stream=True).generate.remote(request)
    async for item in response: ...      # response.cancel() stops the generation (barge-in)

Overload (more than MAX_PENDING generations queued on the replica's model) raises
`services.llm.chat.Overloaded`; bad requests raise `InvalidRequest`, a ValueError.
"""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from ray import serve

from soundloop import metrics, telemetry
from soundloop.llm.v1 import llm_pb2
from soundloop.settings import Settings, load_settings


# Sizing (replicas, CPUs/GPUs, max_ongoing_requests) is the Serve config's alone (deploy/serve/*.yaml).
@serve.deployment(name="Llm")
class LlmDeployment:
    def __init__(self, settings: Settings | dict | None = None):
        """`settings`: a Settings, or overrides for `load_settings` (what services.app binds)."""
        # Before llama.cpp loads: a short OpenMP spin (see soundloop/process_env.py).
        from soundloop import process_env

        process_env.apply(process_env.LLM_STAGE)
        from services.llm.stage import LlmStage
        if not isinstance(settings, Settings):
            settings = load_settings(**(settings or {}))
        telemetry.configure_tracing("soundloop-llm")
        metrics.configure_ray_metrics()
        self._stage = LlmStage.from_settings(settings)

    async def generate(self, request: llm_pb2.GenerateRequest,
                       trace: dict[str, str] | None = None) -> AsyncIterator[llm_pb2.GenerateResponse]:
        """`trace`: the caller's W3C trace context (soundloop.telemetry.carrier())."""
        with telemetry.remote_parent(trace):
            async with contextlib.aclosing(self._stage.generate(request)) as responses:
                async for response in responses:
                    yield response

    async def __del__(self) -> None:
        await self._stage.close()
