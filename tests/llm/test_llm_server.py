"""`python -m services.llm.server` as its own process: ready log, health, Generate, clean SIGTERM."""
from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.llm.servicer import SERVICE_NAME
from soundloop.llm.v1 import llm_pb2_grpc
from tests.support.stage_process import stage_server

pytestmark = pytest.mark.integration


async def test_standalone_server(request_factory):
    async with stage_server("llm") as server:
        async with grpc.aio.insecure_channel(server.address) as channel:
            health = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=SERVICE_NAME))
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            responses = [r async for r in llm_pb2_grpc.LlmStub(channel).Generate(
                request_factory(("user", "What is the capital of France?"), max_tokens=8))]
            assert responses[-1].completion_tokens > 0
        await server.stop()
