"""gRPC edge of the LLM stage: delegates to `LlmStage`; errors become status codes (soundloop.errors)."""
from __future__ import annotations

import contextlib

import grpc

from services.llm.stage import LlmStage
from soundloop import telemetry
from soundloop.errors import errors_as_status
from soundloop.llm.v1 import llm_pb2, llm_pb2_grpc

SERVICE_NAME = llm_pb2.DESCRIPTOR.services_by_name["Llm"].full_name
WHERE = "llm stage"


class LlmServicer(llm_pb2_grpc.LlmServicer):
    def __init__(self, stage: LlmStage):
        self._stage = stage

    async def Generate(self, request: llm_pb2.GenerateRequest, context: grpc.aio.ServicerContext) -> None:
        # Written with context.write rather than as an async generator: when the client cancels,
        # the CancelledError lands in this coroutine and `aclosing` stops the generation at once,
        # instead of leaving a suspended generator for the garbage collector.
        method = f"Generate (session {request.session_id!r}, turn {request.turn_id!r})"
        async with errors_as_status(context, WHERE, method):
            with telemetry.remote_parent(context.invocation_metadata()):
                async with contextlib.aclosing(self._stage.generate(request)) as responses:
                    async for response in responses:
                        await context.write(response)
