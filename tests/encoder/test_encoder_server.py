"""`python -m services.encoder.server` starts, serves, and stops cleanly on SIGTERM."""
import asyncio
import re
import signal
import sys

import grpc
import pytest

from soundloop.audio import codec
from soundloop.encoder.v1 import encoder_pb2 as pb, encoder_pb2_grpc
from soundloop.models import REPO_ROOT

pytestmark = pytest.mark.integration


async def test_standalone_server_serves_and_stops_on_sigterm():
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.encoder.server", "--host", "127.0.0.1", "--port", "0", "--profile", "light",
        cwd=REPO_ROOT, stderr=asyncio.subprocess.PIPE)
    try:
        log = ""
        while not (ready := re.search(r"encoder ready on port (\d+)", log)):
            line = await asyncio.wait_for(proc.stderr.readline(), timeout=60)
            assert line, f"server exited before it was ready:\n{log}"
            log += line.decode()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{ready.group(1)}") as ch:
            fmt = codec.Format(codec.PCM16, 24000)
            resp = await encoder_pb2_grpc.EncoderStub(ch).AnalyzeChunk(
                pb.AnalyzeChunkRequest(format=fmt.to_proto(), audio=b"\0\0" * 2400))
            assert len(resp.pcm16k) == 2 * (1600 - 32)
        proc.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(proc.stderr.read(), timeout=20)
        assert await proc.wait() == 0
        assert "encoder stopping" in rest.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
