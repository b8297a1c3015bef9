"""gRPC edge of the TTS stage: delegates to TtsStage and maps errors to status codes."""
from __future__ import annotations

import contextlib
import logging

import grpc

from services.tts.stage import TtsStage
from soundloop.tts.v1 import tts_pb2_grpc

log = logging.getLogger(__name__)

SERVICE_NAME = "soundloop.tts.v1.Tts"


class TtsServicer(tts_pb2_grpc.TtsServicer):
    def __init__(self, stage: TtsStage):
        self._stage = stage

    async def Synthesize(self, request, context: grpc.aio.ServicerContext):
        # A client cancellation cancels this task at a yield; closing the stage's
        # generator (aclosing) is what stops the synthesis.
        async with contextlib.aclosing(self._stage.synthesize(request)) as pieces:
            try:
                async for piece in pieces:
                    yield piece
            except ValueError as err:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
            except Exception:
                log.exception("tts synthesize failed (turn %s)", request.turn_id)
                await context.abort(grpc.StatusCode.INTERNAL, "tts synthesize failed; see the tts stage's log")


def register(stage: TtsStage):
    """The (add_fn, servicer, service name) triple for soundloop.grpc_server.start_server."""
    return tts_pb2_grpc.add_TtsServicer_to_server, TtsServicer(stage), SERVICE_NAME
