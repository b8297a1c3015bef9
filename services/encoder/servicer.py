"""gRPC edge of the encoder: delegates to EncoderStage and maps errors to status codes."""
from __future__ import annotations

import logging

import grpc

from services.encoder.stage import EncoderStage
from soundloop.encoder.v1 import encoder_pb2_grpc

log = logging.getLogger(__name__)

SERVICE_NAME = "soundloop.encoder.v1.Encoder"


class EncoderServicer(encoder_pb2_grpc.EncoderServicer):
    def __init__(self, stage: EncoderStage):
        self._stage = stage

    async def AnalyzeChunk(self, request, context):
        return await _call(self._stage.analyze_chunk, request, context)

    async def TranscribeUtterance(self, request, context):
        return await _call(self._stage.transcribe_utterance, request, context)

    async def TranscribeClip(self, request, context):
        return await _call(self._stage.transcribe_clip, request, context)


async def _call(method, request, context: grpc.aio.ServicerContext):
    # Client cancellation cancels this task; the CancelledError passes through untouched.
    try:
        return await method(request)
    except ValueError as err:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
    except Exception:
        log.exception("encoder %s failed", method.__name__)
        await context.abort(grpc.StatusCode.INTERNAL, f"encoder {method.__name__} failed; see the encoder's log")


def register(stage: EncoderStage):
    """The (add_fn, servicer, service name) triple for soundloop.grpc_server.start_server."""
    return encoder_pb2_grpc.add_EncoderServicer_to_server, EncoderServicer(stage), SERVICE_NAME
