"""gRPC edge of the LLM stage: delegates to `LlmStage` and maps errors to status codes."""
from __future__ import annotations

import contextlib
import logging

import grpc

from services.llm.chat import BackendUnavailable, Overloaded
from services.llm.stage import LlmStage
from soundloop.llm.v1 import llm_pb2, llm_pb2_grpc

log = logging.getLogger(__name__)

SERVICE_NAME = llm_pb2.DESCRIPTOR.services_by_name["Llm"].full_name


class LlmServicer(llm_pb2_grpc.LlmServicer):
    def __init__(self, stage: LlmStage):
        self._stage = stage

    async def Generate(self, request: llm_pb2.GenerateRequest, context: grpc.aio.ServicerContext) -> None:
        # Written with context.write rather than as an async generator: when the client cancels,
        # the CancelledError lands in this coroutine and `aclosing` stops the generation at once,
        # instead of leaving a suspended generator for the garbage collector.
        try:
            async with contextlib.aclosing(self._stage.generate(request)) as responses:
                async for response in responses:
                    await context.write(response)
        except ValueError as e:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
        except Overloaded as e:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(e))
        except BackendUnavailable as e:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(e))
        except Exception as e:
            log.exception("Generate failed (session %r, turn %r)", request.session_id, request.turn_id)
            await context.abort(grpc.StatusCode.INTERNAL, f"generation failed: {e}")
