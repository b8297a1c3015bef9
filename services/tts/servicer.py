"""gRPC edge of the TTS stage: delegates to TtsStage; errors become status codes (soundloop.errors)."""
from __future__ import annotations

import contextlib

import grpc

from services.tts.stage import TtsStage
from soundloop import telemetry
from soundloop.errors import errors_as_status
from soundloop.tts.v1 import tts_pb2_grpc

SERVICE_NAME = "soundloop.tts.v1.Tts"
WHERE = "tts stage"


class TtsServicer(tts_pb2_grpc.TtsServicer):
    def __init__(self, stage: TtsStage):
        self._stage = stage

    async def Synthesize(self, request, context: grpc.aio.ServicerContext):
        # A client cancellation cancels this task at a yield; closing the stage's
        # generator (aclosing) is what stops the synthesis.
        async with errors_as_status(context, WHERE, f"Synthesize (turn {request.turn_id!r})"):
            with telemetry.remote_parent(context.invocation_metadata()):
                async with contextlib.aclosing(self._stage.synthesize(request)) as pieces:
                    async for piece in pieces:
                        yield piece


def register(stage: TtsStage):
    """The (add_fn, servicer, service name) triple for soundloop.grpc_server.start_server."""
    return tts_pb2_grpc.add_TtsServicer_to_server, TtsServicer(stage), SERVICE_NAME
