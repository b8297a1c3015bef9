"""Ray Serve deployment of the LLM stage: the same methods as `LlmStage`, one model per replica.

    response = handle.options(stream=True).generate.remote(request)
    async for item in response: ...      # response.cancel() stops the generation (barge-in)

Overload (more than MAX_PENDING generations queued on the replica's model) raises
`services.llm.chat.Overloaded`; bad requests raise `InvalidRequest`, a ValueError.

Session affinity: a replica keeps each session's KV cache (services/llm/kv_snapshots.py), so a
session's requests (the prefills of its partial transcripts, then its replies) should reach the
replica that holds it. Serve's model multiplexing routes by an id to the replica that has it
"loaded"; the gateway sends the session id as that id (`handle.options(multiplexed_model_id=...)`)
and a replica "loads" a session by noting it. With one replica this changes nothing; with two
(autoscaled under load), a session no longer lands on the other replica's empty cache half the time.
"""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from ray import serve

from soundloop import metrics, telemetry
from soundloop.llm.v1 import llm_pb2
from soundloop.settings import Settings, load_settings

# Sessions a replica routes to itself at most, least recently used out first: more than the live calls
# one LLM replica serves on these machines, as the KV snapshots also keep ~9,000 tokens' worth.
SESSIONS_PER_REPLICA = 64


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

    @serve.multiplexed(max_num_models_per_replica=SESSIONS_PER_REPLICA)
    async def _hold_session(self, session_id: str) -> str:
        """Marks `session_id` as this replica's, so Serve routes its next requests here (see above)."""
        return session_id

    async def generate(self, request: llm_pb2.GenerateRequest,
                       trace: dict[str, str] | None = None) -> AsyncIterator[llm_pb2.GenerateResponse]:
        """`trace`: the caller's W3C trace context (soundloop.telemetry.carrier())."""
        if session := serve.get_multiplexed_model_id():
            await self._hold_session(session)
        with telemetry.remote_parent(trace):
            async with contextlib.aclosing(self._stage.generate(request)) as responses:
                async for response in responses:
                    yield response

    async def __del__(self) -> None:
        await self._stage.close()
