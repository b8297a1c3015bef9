"""gRPC edge of the decider: delegates to DeciderStage and maps errors to status codes."""
from __future__ import annotations

import logging

import grpc

from services.decider.stage import DeciderStage
from soundloop.decider.v1 import decider_pb2, decider_pb2_grpc

log = logging.getLogger(__name__)

SERVICE_NAME = decider_pb2.DESCRIPTOR.services_by_name["Decider"].full_name


class DeciderServicer(decider_pb2_grpc.DeciderServicer):
    def __init__(self, stage: DeciderStage):
        self.stage = stage

    async def Decide(self, request: decider_pb2.DecideRequest,
                     context: grpc.aio.ServicerContext) -> decider_pb2.DecideResponse:
        try:
            return await self.stage.decide(request)
        except ValueError as e:
            error = (grpc.StatusCode.INVALID_ARGUMENT, str(e))
        except Exception:
            log.exception("Decide failed")
            error = (grpc.StatusCode.INTERNAL, "decider failed; see the decider's log")
        # Outside the try: abort raises, and must not be caught as a failure of the stage.
        await context.abort(*error)


def register(stage: DeciderStage):
    """The (add function, servicer, service name) triple for soundloop.grpc_server.start_server."""
    return decider_pb2_grpc.add_DeciderServicer_to_server, DeciderServicer(stage), SERVICE_NAME
