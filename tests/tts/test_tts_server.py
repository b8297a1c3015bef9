"""`python -m services.tts.server` starts, serves, and stops cleanly on SIGTERM."""
import grpc
import pytest
from tts_speech import request

from soundloop.audio import codec
from soundloop.tts.v1 import tts_pb2_grpc
from tests.support.stage_process import stage_server

pytestmark = pytest.mark.integration


async def test_standalone_server_serves_and_stops_on_sigterm():
    async with stage_server("tts") as server:
        assert "default voice espeak-ng:en-us" in server.log  # the light profile's engine
        async with grpc.aio.insecure_channel(server.address) as ch:
            fmt = codec.Format(codec.PCM16, 48000)
            pieces = [r.audio async for r in tts_pb2_grpc.TtsStub(ch).Synthesize(request("Ready.", fmt=fmt))]
            assert len(pieces[0]) == 5760  # 60 ms at 48 kHz
        await server.stop()
