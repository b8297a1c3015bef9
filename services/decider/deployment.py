"""Ray Serve deployment of the decider stage.

    app = DeciderDeployment.bind({"profile": "light"})
    handle = serve.run(app)
    response = await handle.decide.remote(decide_request)  # a DecideResponse
"""
from __future__ import annotations

from ray import serve

from soundloop import metrics, telemetry
from soundloop.decider.v1 import decider_pb2


# Sizing (replicas, CPUs, max_ongoing_requests) is the Serve config's alone (deploy/serve/*.yaml).
@serve.deployment(name="Decider")
class DeciderDeployment:
    def __init__(self, settings_overrides: dict | None = None):
        # Imported and built here, not at module level: Serve pickles this class by value.
        from soundloop import process_env

        process_env.apply(process_env.MODEL_STAGE)
        from services.decider.stage import DeciderStage
        from soundloop.settings import load_settings

        telemetry.configure_tracing("soundloop-decider")
        metrics.configure_ray_metrics()
        self._stage = DeciderStage.from_settings(load_settings(**(settings_overrides or {})))

    async def decide(self, req: decider_pb2.DecideRequest,
                     trace: dict[str, str] | None = None) -> decider_pb2.DecideResponse:
        """`trace`: the caller's W3C trace context (soundloop.telemetry.carrier())."""
        with telemetry.remote_parent(trace):
            return await self._stage.decide(req)

    def __del__(self):
        stage = getattr(self, "_stage", None)
        if stage is not None:
            stage.close()
