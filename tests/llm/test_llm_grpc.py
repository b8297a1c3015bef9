"""The Llm gRPC service on loopback: streaming, status codes, and client cancellation."""
from __future__ import annotations

import asyncio
import socket
import time

import grpc
import pytest

from services.llm.openai_backend import OpenAIBackend
from services.llm.servicer import SERVICE_NAME, LlmServicer
from services.llm.stage import LlmStage
from soundloop.grpc_server import start_server
from soundloop.llm.v1 import llm_pb2, llm_pb2_grpc

pytestmark = pytest.mark.integration

SYSTEM_PROMPT = "You are a helpful voice assistant. Answer in one short sentence."


@pytest.fixture(scope="module")
async def stage(light_settings):
    stage = LlmStage.from_settings(light_settings)
    yield stage
    await stage.close()


async def serve(stage: LlmStage):
    return await start_server(
        "127.0.0.1:0", [(llm_pb2_grpc.add_LlmServicer_to_server, LlmServicer(stage), SERVICE_NAME)])


@pytest.fixture(scope="module")
async def stub(stage):
    server, port = await serve(stage)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    yield llm_pb2_grpc.LlmStub(channel)
    await channel.close()
    await server.stop(None)


async def test_generate_streams_the_reply(stub, request_factory):
    req = request_factory(("system", SYSTEM_PROMPT), ("user", "What is the capital of France?"), max_tokens=32)
    responses = [r async for r in stub.Generate(req)]
    assert len(responses) >= 3
    assert "".join(r.delta for r in responses).strip()
    assert responses[-1].finish_reason in (llm_pb2.FINISH_REASON_STOP, llm_pb2.FINISH_REASON_LENGTH)
    assert responses[-1].completion_tokens > 0


@pytest.mark.parametrize("req, message", [
    (llm_pb2.GenerateRequest(), "messages is empty"),
    (llm_pb2.GenerateRequest(messages=[llm_pb2.ChatMessage(content="hi")]), "ROLE_UNSPECIFIED"),
    (llm_pb2.GenerateRequest(messages=[llm_pb2.ChatMessage(role=llm_pb2.ROLE_USER, content="hi"),
                                       llm_pb2.ChatMessage(role=llm_pb2.ROLE_ASSISTANT, content="hello")]),
     "end with a user message"),
])
async def test_bad_request_is_invalid_argument(stub, req, message):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async for _ in stub.Generate(req):
            pass
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in err.value.details()


async def test_client_cancel_stops_the_server_side_work(stub, stage, request_factory):
    backend = stage.backend
    call = stub.Generate(request_factory(
        ("user", "Tell me a very long story about a dragon who learns to cook."), max_tokens=150, session_id="c"))
    first = await call.read()
    assert first.delta
    call.cancel()
    deadline = time.perf_counter() + 1.0
    while backend.recent[-1].outcome == "running":
        assert time.perf_counter() < deadline, "the server kept generating after the client cancelled"
        await asyncio.sleep(0.005)
    stats = backend.recent[-1]
    assert stats.outcome == "cancelled"
    assert stats.completion_tokens < 10
    # And the server answers the next call.
    responses = [r async for r in stub.Generate(request_factory(("user", "Hi!"), max_tokens=4))]
    assert responses[-1].completion_tokens > 0


async def test_unreachable_remote_backend_is_unavailable(request_factory):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    stage = LlmStage(OpenAIBackend(f"http://127.0.0.1:{dead_port}/v1", model="m", connect_timeout_s=1),
                     default_max_tokens=8)
    server, port = await serve(stage)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                async for _ in llm_pb2_grpc.LlmStub(channel).Generate(request_factory(("user", "hi"))):
                    pass
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "unreachable" in err.value.details()
    finally:
        await server.stop(None)
        await stage.close()
