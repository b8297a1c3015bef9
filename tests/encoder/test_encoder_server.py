"""`python -m services.encoder.server` starts, serves, and stops cleanly on SIGTERM."""
import grpc
import pytest

from soundloop.audio import codec
from soundloop.encoder.v1 import encoder_pb2 as pb, encoder_pb2_grpc
from tests.support.stage_process import stage_server

pytestmark = pytest.mark.integration


async def test_standalone_server_serves_and_stops_on_sigterm():
    async with stage_server("encoder") as server:
        async with grpc.aio.insecure_channel(server.address) as ch:
            fmt = codec.Format(codec.PCM16, 24000)
            resp = await encoder_pb2_grpc.EncoderStub(ch).AnalyzeChunk(
                pb.AnalyzeChunkRequest(format=fmt.to_proto(), audio=b"\0\0" * 2400))
            assert len(resp.pcm16k) == 2 * (1600 - 32)
        await server.stop()
