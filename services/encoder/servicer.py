"""gRPC edge of the encoder: delegates to EncoderStage; errors become status codes (soundloop.errors)."""
from __future__ import annotations

from services.encoder.stage import EncoderStage
from soundloop import telemetry
from soundloop.encoder.v1 import encoder_pb2_grpc
from soundloop.errors import errors_as_status

SERVICE_NAME = "soundloop.encoder.v1.Encoder"
WHERE = "encoder stage"


class EncoderServicer(encoder_pb2_grpc.EncoderServicer):
    def __init__(self, stage: EncoderStage):
        self._stage = stage

    async def AnalyzeChunk(self, request, context):
        async with errors_as_status(context, WHERE, "AnalyzeChunk"):
            return await self._stage.analyze_chunk(request)

    async def TranscribeUtterance(self, request, context):
        async with errors_as_status(context, WHERE, "TranscribeUtterance"):
            with telemetry.remote_parent(context.invocation_metadata()):
                return await self._stage.transcribe_utterance(request)

    async def TranscribeClip(self, request, context):
        async with errors_as_status(context, WHERE, "TranscribeClip"):
            with telemetry.remote_parent(context.invocation_metadata()):
                return await self._stage.transcribe_clip(request)


def register(stage: EncoderStage):
    """The (add_fn, servicer, service name) triple for soundloop.grpc_server.start_server."""
    return encoder_pb2_grpc.add_EncoderServicer_to_server, EncoderServicer(stage), SERVICE_NAME
