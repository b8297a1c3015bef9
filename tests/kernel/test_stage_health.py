"""A stage process's gRPC health tells the truth from its first moment: NOT_SERVING while its
models load (not a refused port, which a probe cannot tell from a dead process), SERVING once
they are, on the same port. A real encoder server process, light profile."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from soundloop.local_redis import free_port

pytestmark = pytest.mark.integration

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


def _health_timeline(stub, until: int, within_s: float) -> list[int]:
    """Every distinct status the server reported, in order, polling until it reports `until`."""
    seen: list[int] = []
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            # A generous deadline: while the models load (on a busy CI machine, too) the loading
            # server may answer late, and a late NOT_SERVING is still the answer under test.
            status = stub.Check(health_pb2.HealthCheckRequest(), timeout=15).status
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE:  # only "not listening yet" is retried
                raise
            time.sleep(0.02)
            continue
        if not seen or seen[-1] != status:
            seen.append(status)
        if status == until:
            return seen
        time.sleep(0.02)
    raise AssertionError(f"health never became {until} within {within_s} s; saw {seen}")


def test_a_stage_says_not_serving_while_loading_then_serving_on_the_same_port():
    port = free_port()
    env = {**os.environ, "SOUNDLOOP_PROFILE": "light"}
    proc = subprocess.Popen([sys.executable, "-m", "services.encoder.server", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        # Reconnect at once after a refused connection: gRPC's default backoff (1 s, growing 1.6x)
        # can sleep through the whole loading window on a fast load, and the probe would never
        # see NOT_SERVING although the server said it.
        retry_fast = [("grpc.initial_reconnect_backoff_ms", 50), ("grpc.min_reconnect_backoff_ms", 50),
                      ("grpc.max_reconnect_backoff_ms", 100)]
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=retry_fast) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            assert _health_timeline(stub, SERVING, within_s=120) == [NOT_SERVING, SERVING]
            # The port the loading server held is the real server's now: the stage's service answers on it.
            services = stub.Check(health_pb2.HealthCheckRequest(service="soundloop.encoder.v1.Encoder"), timeout=2)
            assert services.status == SERVING

            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
