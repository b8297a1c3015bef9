"""The TTS servicer on loopback: a real streamed Synthesize, status codes, client cancellation."""
import asyncio
import re
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tts_speech import GREETING, child_processes, request

from services.tts.servicer import SERVICE_NAME, register
from soundloop.audio import codec
from soundloop.grpc_server import start_server
from soundloop.tts.v1 import tts_pb2_grpc

pytestmark = pytest.mark.integration

LONG_TEXT = "This sentence goes on and on, for quite a while. " * 30


@pytest.fixture(scope="module")
async def channel(tts_stage):
    server, port = await start_server("127.0.0.1:0", [register(tts_stage)])
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        yield ch
    await server.stop(None)


@pytest.fixture(scope="module")
def stub(channel):
    return tts_pb2_grpc.TtsStub(channel)


async def test_health(channel):
    resp = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME))
    assert resp.status == health_pb2.HealthCheckResponse.SERVING


async def test_synthesize_streams_pieces(stub):
    fmt = codec.Format(codec.MULAW, 8000)
    pieces = [r.audio async for r in stub.Synthesize(request(GREETING, "piper", fmt, turn_id="turn-7"))]
    assert len(pieces) > 5
    assert all(len(p) == 480 for p in pieces[:-1])  # 60 ms of 8 kHz G.711
    assert 0.5 < sum(map(len, pieces)) / 8000 < 4


@pytest.mark.parametrize("req, message", [
    (request(""), "text is empty"),
    (request("Hello.", voice="nobody"), "unknown voice 'nobody'; valid voices: .*piper:en_US-joe-medium"),
    (request("Hello.", fmt=codec.Format(codec.PCM16, 11025)), "sample_rate_hz must be one of"),
])
async def test_bad_requests_are_invalid_argument(stub, req, message):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in stub.Synthesize(req):
            pass
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert re.search(message, caught.value.details())


async def test_client_cancel_stops_piper(stub):
    call = stub.Synthesize(request(LONG_TEXT, "piper"))  # ~30 sentences: several seconds of work
    start = time.perf_counter()
    assert (await anext(aiter(call))).audio
    call.cancel()
    # Piper's lock is free again at once: the server stopped after the sentence in progress.
    pieces = [r.audio async for r in stub.Synthesize(request("Yes.", "piper"))]
    assert pieces and time.perf_counter() - start < 2.5


async def test_client_cancel_kills_espeak(stub):
    call = stub.Synthesize(request(LONG_TEXT, "espeak-ng"))
    assert (await anext(aiter(call))).audio
    assert child_processes("espeak-ng")  # ~90 s of audio: it waits for gRPC flow control
    call.cancel()
    deadline = time.monotonic() + 2
    while child_processes("espeak-ng") and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert child_processes("espeak-ng") == []
