"""The TTS stage as a Ray Serve deployment, with the same method names as TtsStage.

`synthesize` streams: call it with `handle.options(stream=True).synthesize.remote(req)`.
"""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from ray import serve

from soundloop import metrics, process_env, telemetry
from soundloop.tts.v1 import tts_pb2


# Sizing (replicas, CPUs, max_ongoing_requests) is the Serve config's alone (deploy/serve/*.yaml).
@serve.deployment(name="Tts")
class TtsDeployment:
    def __init__(self, settings: dict | None = None):
        # Before onnxruntime (Piper) loads: passive OpenMP threads, no model hub.
        process_env.apply(process_env.MODEL_STAGE)
        # Imported here: Serve pickles this class by value, and models load once per replica.
        from services.tts.stage import TtsStage
        from soundloop.settings import load_settings

        telemetry.configure_tracing("soundloop-tts")
        metrics.configure_ray_metrics()
        self._stage = TtsStage.from_settings(load_settings(**(settings or {})))

    async def synthesize(self, req: tts_pb2.SynthesizeRequest,
                         trace: dict[str, str] | None = None) -> AsyncIterator[tts_pb2.SynthesizeResponse]:
        """`trace`: the caller's W3C trace context (soundloop.telemetry.carrier())."""
        # Closing the stage's generator when the caller cancels is what stops the synthesis.
        with telemetry.remote_parent(trace):
            async with contextlib.aclosing(self._stage.synthesize(req)) as pieces:
                async for piece in pieces:
                    yield piece

    async def voices(self) -> list[str]:
        return self._stage.voices

    def __del__(self):
        stage = getattr(self, "_stage", None)
        if stage is not None:
            stage.close()
