"""The encoder as a Ray Serve deployment, with the same method names as EncoderStage."""
from __future__ import annotations

from ray import serve

from soundloop import metrics, process_env, telemetry
from soundloop.encoder.v1 import encoder_pb2


# Sizing (replicas, CPUs, max_ongoing_requests) is the Serve config's alone (deploy/serve/*.yaml).
@serve.deployment(name="Encoder")
class EncoderDeployment:
    def __init__(self, settings: dict | None = None):
        # Before CTranslate2 and onnxruntime load: passive OpenMP threads, no model hub.
        process_env.apply(process_env.MODEL_STAGE)
        # Imported here: Serve pickles this class by value, and models load once per replica.
        from services.encoder.stage import EncoderStage
        from soundloop.settings import load_settings

        telemetry.configure_tracing("soundloop-encoder")
        metrics.configure_ray_metrics()
        self._stage = EncoderStage.from_settings(load_settings(**(settings or {})))

    async def analyze_chunk(self, req: encoder_pb2.AnalyzeChunkRequest) -> encoder_pb2.AnalyzeChunkResponse:
        return await self._stage.analyze_chunk(req)

    # `trace`: the caller's W3C trace context (Serve handles carry no metadata; soundloop.telemetry.carrier()).
    async def transcribe_utterance(self, req: encoder_pb2.TranscribeUtteranceRequest,
                                   trace: dict[str, str] | None = None) -> encoder_pb2.TranscribeUtteranceResponse:
        with telemetry.remote_parent(trace):
            return await self._stage.transcribe_utterance(req)

    async def transcribe_clip(self, req: encoder_pb2.TranscribeClipRequest,
                              trace: dict[str, str] | None = None) -> encoder_pb2.TranscribeClipResponse:
        with telemetry.remote_parent(trace):
            return await self._stage.transcribe_clip(req)

    def __del__(self):
        stage = getattr(self, "_stage", None)
        if stage is not None:
            stage.close()
