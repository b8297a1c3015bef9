"""The gateway's gRPC health tells the truth: NOT_SERVING while Redis is down and while draining;
Serve's liveness check (RedisWatch.raise_if_stopped) fails only once the replica stopped.
A real gateway server on loopback, a real redis-server that the test stops and starts again."""
from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.gateway.server import start_gateway
from services.gateway.servicer import SERVICE_NAME
from soundloop.local_redis import free_port
from soundloop.settings import Settings

from .scripted_stages import ScriptedStages

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


@contextlib.contextmanager
def redis_on(port: int):
    proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


def _wait_until_listening(port: int) -> None:
    for _ in range(100):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
            return
        time.sleep(0.05)
    raise AssertionError(f"redis-server did not listen on {port}")


async def _status(stub, service: str) -> int:
    return (await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2)).status


async def _becomes(stub, want: int, within_s: float) -> float:
    """Seconds until every name reports `want` (fails after `within_s`)."""
    started = time.monotonic()
    while time.monotonic() - started < within_s:
        if all([await _status(stub, name) == want for name in ("", SERVICE_NAME)]):
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"health did not become {health_pb2.HealthCheckResponse.ServingStatus.Name(want)} "
                         f"within {within_s} s")


def test_health_follows_redis_and_drains_on_stop():
    port = free_port()

    async def scenario(first: subprocess.Popen):
        gateway = await start_gateway(Settings(redis_url=f"redis://127.0.0.1:{port}/0"), ScriptedStages([], {}),
                                      "127.0.0.1:0")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                assert await _status(stub, SERVICE_NAME) == SERVING
                first.terminate()
                first.wait(10)
                assert await _becomes(stub, NOT_SERVING, within_s=5.0) < 5.0
                # Not ready is not dead: Serve's check_health (liveness) passes, so Serve does not
                # replace the replica and drop its calls over a Redis outage.
                gateway.redis_watch.raise_if_stopped()
                with redis_on(port):
                    assert await _becomes(stub, SERVING, within_s=5.0) < 5.0
                    stopping = asyncio.create_task(gateway.stop(grace_s=1.0))
                    await asyncio.sleep(0.05)
                    assert not gateway.status.serving  # draining: no new calls routed here
                    await stopping
                    with pytest.raises(RuntimeError, match="Redis watch"):
                        gateway.redis_watch.raise_if_stopped()  # a stopped replica fails it
            finally:
                if gateway.status.serving:
                    await gateway.stop(grace_s=0)

    with redis_on(port) as first:
        _wait_until_listening(port)
        asyncio.run(scenario(first))
