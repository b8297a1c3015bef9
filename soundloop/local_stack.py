"""Runs the whole system on this machine as separate processes, without Ray:
the four stage servers and the gateway, each on a loopback port, the same
processes docker-compose runs. `soundloop serve --mode processes` and the
end-to-end tests use it; `soundloop serve` (the default) runs the Ray Serve app.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from soundloop.local_redis import free_port

STAGES = ("encoder", "llm", "decider", "tts")


@dataclasses.dataclass
class LocalStack:
    gateway_address: str
    stage_addresses: dict[str, str]
    processes: dict[str, subprocess.Popen]
    metrics_ports: dict[str, int]  # process -> its Prometheus /metrics port (empty: metrics off)
    _spawn: Callable[[str, int], subprocess.Popen] | None = None  # (process name, port) -> process

    def crash_and_restart(self, stage: str, down_s: float = 0.0) -> None:
        """SIGKILLs a stage process and starts a new one on its port, `down_s` later, as a
        supervisor (compose's restart policy, Kubernetes) would. Returns once it is SERVING."""
        old = self.processes[stage]
        old.kill()
        old.wait(10)
        time.sleep(down_s)
        self.processes[stage] = self._spawn(stage, int(self.stage_addresses[stage].rsplit(":", 1)[1]))
        wait_serving(self.stage_addresses[stage], 180, self.processes[stage], stage)

    def start_another_gateway(self, name: str = "gateway-2") -> str:
        """A second gateway on the same stages and Redis, as a second replica would be; its address."""
        port = free_port()
        self.processes[name] = self._spawn("gateway", port)
        address = f"127.0.0.1:{port}"
        wait_serving(address, 30, self.processes[name], name)
        return address


def wait_serving(address: str, timeout_s: float, proc: subprocess.Popen | None = None, name: str = "") -> None:
    """Blocks until the gRPC server at `address` reports SERVING (grpc.health.v1)."""
    deadline = time.monotonic() + timeout_s
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{name or address} exited with code {proc.returncode} during start-up")
            try:
                status = stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                if status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    raise TimeoutError(f"{name or address} not serving after {timeout_s:.0f} s")


def _spawn(module: str, port: int, env: dict[str, str], log_dir: str | None) -> subprocess.Popen:
    # Appended to: a restarted (or second) process of the same kind adds to the log.
    out = open(os.path.join(log_dir, f"{module.split('.')[1]}.log"), "ab") if log_dir else None
    return subprocess.Popen([sys.executable, "-m", module, "--port", str(port)], env=env,
                            stdout=out or subprocess.DEVNULL, stderr=subprocess.STDOUT)


@contextlib.contextmanager
def local_stack(profile: str, redis_url: str, *, gateway_port: int = 0, log_dir: str | None = None,
                extra_env: dict[str, str] | None = None, start_timeout_s: float = 180,
                metrics: bool = False) -> Iterator[LocalStack]:
    """Starts stages, then the gateway; yields once all report SERVING; stops them all after.
    With `metrics`, each process serves Prometheus /metrics on a free port of its own."""
    ports = {stage: free_port() for stage in STAGES}
    addresses = {stage: f"127.0.0.1:{port}" for stage, port in ports.items()}
    # Each server sets its own OpenMP wait policy (soundloop/process_env.py) unless the operator did.
    env = {**os.environ, "SOUNDLOOP_PROFILE": profile, "SOUNDLOOP_REDIS_URL": redis_url, **(extra_env or {})}
    env.update({f"SOUNDLOOP_STAGES__{stage.upper()}": address for stage, address in addresses.items()})
    processes: dict[str, subprocess.Popen] = {}
    metrics_ports = {name: free_port() for name in (*STAGES, "gateway")} if metrics else {}

    def env_of(name: str) -> dict[str, str]:
        return {**env, "SOUNDLOOP_METRICS_PORT": str(metrics_ports[name])} if metrics else env
    try:
        for stage in STAGES:
            processes[stage] = _spawn(f"services.{stage}.server", ports[stage], env_of(stage), log_dir)
        for stage in STAGES:
            wait_serving(addresses[stage], start_timeout_s, processes[stage], stage)
        gateway_port = gateway_port or free_port()
        processes["gateway"] = _spawn("services.gateway.server", gateway_port, env_of("gateway"), log_dir)
        gateway_address = f"127.0.0.1:{gateway_port}"
        wait_serving(gateway_address, 30, processes["gateway"], "gateway")
        yield LocalStack(gateway_address, addresses, processes, metrics_ports,
                         lambda name, port: _spawn(f"services.{name}.server", port, env_of(name), log_dir))
    finally:
        for proc in processes.values():
            proc.terminate()
        for proc in processes.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
