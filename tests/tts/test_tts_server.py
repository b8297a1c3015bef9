"""`python -m services.tts.server` starts, serves, and stops cleanly on SIGTERM."""
import asyncio
import re
import signal
import sys

import grpc
import pytest
from tts_speech import request

from soundloop.audio import codec
from soundloop.models import REPO_ROOT
from soundloop.tts.v1 import tts_pb2_grpc

pytestmark = pytest.mark.integration


async def test_standalone_server_serves_and_stops_on_sigterm():
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.tts.server", "--host", "127.0.0.1", "--port", "0", "--profile", "light",
        cwd=REPO_ROOT, stderr=asyncio.subprocess.PIPE)
    try:
        log = ""
        while not (ready := re.search(r"tts ready on port (\d+)", log)):
            line = await asyncio.wait_for(proc.stderr.readline(), timeout=60)
            assert line, f"server exited before it was ready:\n{log}"
            log += line.decode()
        assert "default voice espeak-ng:en-us" in log  # the light profile's engine
        async with grpc.aio.insecure_channel(f"127.0.0.1:{ready.group(1)}") as ch:
            fmt = codec.Format(codec.PCM16, 48000)
            pieces = [r.audio async for r in tts_pb2_grpc.TtsStub(ch).Synthesize(request("Ready.", fmt=fmt))]
            assert len(pieces[0]) == 5760  # 60 ms at 48 kHz
        proc.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(proc.stderr.read(), timeout=20)
        assert await proc.wait() == 0
        assert "tts stopping" in rest.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
