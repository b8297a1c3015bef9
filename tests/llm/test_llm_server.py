"""`python -m services.llm.server` as its own process: ready log, health, Generate, clean SIGTERM."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.llm.servicer import SERVICE_NAME
from soundloop.llm.v1 import llm_pb2_grpc
from soundloop.models import REPO_ROOT

pytestmark = pytest.mark.integration


def read_until(proc: subprocess.Popen, pattern: str, timeout_s: float) -> re.Match:
    deadline = time.monotonic() + timeout_s
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if match := re.search(pattern, line):
            return match
    raise AssertionError(f"no {pattern!r} in server output:\n{''.join(seen)}")


async def test_standalone_server(request_factory):
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.llm.server", "--host", "127.0.0.1", "--port", "0", "--profile", "light"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        port = int(read_until(proc, r"llm ready on port (\d+)", 60).group(1))
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=SERVICE_NAME))
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            responses = [r async for r in llm_pb2_grpc.LlmStub(channel).Generate(
                request_factory(("user", "What is the capital of France?"), max_tokens=8))]
            assert responses[-1].completion_tokens > 0
        proc.send_signal(signal.SIGTERM)
        read_until(proc, r"stopped", 15)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
