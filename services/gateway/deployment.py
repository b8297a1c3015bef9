"""The gateway as a Ray Serve deployment.

Its replica runs the same grpc.aio server as the standalone gateway, on its own
port: callers' 20 ms frames are terminated natively here (Serve's gRPC proxy
would cost ~2.8 ms CPU per message), and the stages are reached through
DeploymentHandles once per chunk or utterance. Replicas on one node share the
port (SO_REUSEPORT); sessions live in Redis, so any replica can resume any session.
"""
from __future__ import annotations

import logging

from ray import serve

from soundloop.metrics import configure_ray_metrics
from soundloop.settings import load_settings
from soundloop.telemetry import configure_tracing

from .server import Gateway, start_gateway
from .stage_clients import ServeStageClients

log = logging.getLogger(__name__)


# Sizing (replicas, CPUs, the head-node pin) is the Serve config's alone (deploy/serve/*.yaml).
@serve.deployment(name="Gateway")
class GatewayDeployment:
    async def __init__(self, encoder, llm, decider, tts, settings: dict | None = None):
        configure_tracing("soundloop-gateway")
        configure_ray_metrics()  # before start_gateway, which would serve its own /metrics port
        self._settings = load_settings(**(settings or {}))
        self._gateway: Gateway = await start_gateway(self._settings, ServeStageClients(encoder, llm, decider, tts))
        log.info("gateway replica serving soundloop.v1.Interaction on port %d", self._gateway.port)

    async def port(self) -> int:
        return self._gateway.port

    async def check_health(self) -> None:
        """Serve's check is liveness: a failure replaces the replica, dropping its calls. So it fails only
        when this replica cannot tell the truth any more; a Redis outage is not that: the replica's
        grpc.health says NOT_SERVING (balancers send new calls elsewhere) and its calls ride it out."""
        self._gateway.redis_watch.raise_if_stopped()

    async def __del__(self):
        await self._gateway.stop(grace_s=2.0)
