"""gRPC edge of the decider: delegates to DeciderStage; errors become status codes (soundloop.errors)."""
from __future__ import annotations

import grpc

from services.decider.stage import DeciderStage
from soundloop import telemetry
from soundloop.decider.v1 import decider_pb2, decider_pb2_grpc
from soundloop.errors import errors_as_status

SERVICE_NAME = decider_pb2.DESCRIPTOR.services_by_name["Decider"].full_name
WHERE = "decider stage"


class DeciderServicer(decider_pb2_grpc.DeciderServicer):
    def __init__(self, stage: DeciderStage):
        self.stage = stage

    async def Decide(self, request: decider_pb2.DecideRequest,
                     context: grpc.aio.ServicerContext) -> decider_pb2.DecideResponse:
        async with errors_as_status(context, WHERE, "Decide"):
            with telemetry.remote_parent(context.invocation_metadata()):
                return await self.stage.decide(request)


def register(stage: DeciderStage):
    """The (add function, servicer, service name) triple for soundloop.grpc_server.start_server."""
    return decider_pb2_grpc.add_DeciderServicer_to_server, DeciderServicer(stage), SERVICE_NAME
