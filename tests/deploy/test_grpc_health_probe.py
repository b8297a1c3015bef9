"""deploy/docker/grpc_health_probe.py, run as Docker runs it, against a real gRPC server."""
from __future__ import annotations

import asyncio
import socket
import sys

import grpc
import manifest_checks as mc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

pytestmark = pytest.mark.integration

PROBE = mc.REPO / "deploy" / "docker" / "grpc_health_probe.py"


async def run_probe(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(PROBE), *args, "--timeout", "2",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    return process.returncode, out.decode()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_probe_reports_serving_not_serving_unknown_and_down():
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
        await servicer.set("soundloop.tts.v1.Tts", health_pb2.HealthCheckResponse.NOT_SERVING)
        address = f"127.0.0.1:{port}"
        results = await asyncio.gather(
            run_probe(address),
            run_probe(address, "--service", "soundloop.tts.v1.Tts"),
            run_probe(address, "--service", "soundloop.nope.v1.Nope"),
            run_probe(f"127.0.0.1:{closed_port()}"),
        )
    finally:
        await server.stop(None)
    (ok, ok_out), (sick, sick_out), (unknown, unknown_out), (down, down_out) = results
    assert ok == 0 and "SERVING" in ok_out
    assert sick == 1 and "NOT_SERVING" in sick_out
    assert unknown == 1 and "NOT_FOUND" in unknown_out
    assert down == 1 and "UNAVAILABLE" in down_out
