"""The gateway: terminates callers' Converse streams and runs the loop against the stages.

Standalone (stages as separate gRPC servers, e.g. docker-compose):
    python -m services.gateway.server --port 50051
Inside Ray Serve the same `start_gateway` runs in the Gateway deployment's replica.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal

import grpc

from soundloop.grpc_server import ServingStatus, not_serving_while_loading, start_server
from soundloop.logs import configure_logging
from soundloop.metrics import configure_metrics
from soundloop.settings import Settings, load_settings
from soundloop.telemetry import configure_tracing

from .access import Access
from .readiness import RedisWatch
from .servicer import SERVICE_NAME, InteractionServicer, add_to_server
from .session_store import SessionStore
from .stage_clients import GrpcStageClients, StageClients
from .stage_retry import RetryingStages
from .transport import server_credentials
from .warm_up import warm_up

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Gateway:
    server: grpc.aio.Server
    port: int
    store: SessionStore
    stages: StageClients
    status: ServingStatus
    redis_watch: RedisWatch
    servicer: InteractionServicer

    async def stop(self, grace_s: float = 5.0) -> None:
        """Drains: NOT_SERVING first, so no new call is routed here; live sessions save their progress
        and end UNAVAILABLE, to be resumed elsewhere; other calls in flight get `grace_s`."""
        await _bounded("the Redis watch", self.redis_watch.stop())
        await self.status.set(False)
        self.servicer.drain()
        await _bounded("the gRPC server", self.server.stop(grace_s), grace_s + STEP_LIMIT_S)
        await _bounded("the stage clients", self.stages.close())
        await _bounded("the session store", self.store.close())


# A stop that waits forever holds a pod in Terminating until the kubelet kills it, and its sessions'
# last progress with it; no step of a stop needs more than this once its grace is over.
STEP_LIMIT_S = 10.0


async def _bounded(what: str, step, limit_s: float | None = None) -> None:
    """Runs one step of a stop for at most `limit_s`; an overrun is logged with every task still
    pending (where each waits), so the cause can be found, then cancelled, and the stop goes on."""
    limit_s = STEP_LIMIT_S if limit_s is None else limit_s
    task = asyncio.ensure_future(step)
    try:
        await asyncio.wait({task}, timeout=limit_s)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if task.done():
        task.result()  # the step's own error, if it failed
        return
    pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    log.error("gateway stop: %s did not stop within %.1f s; going on. Pending tasks:\n%s", what, limit_s,
              "\n".join(_where(t) for t in pending))
    task.cancel()  # not awaited: a step that hung may ignore its cancellation too


def _where(task: asyncio.Task, depth: int = 8) -> str:
    """The task's await chain, outermost first: where it is stuck, not only where it started."""
    chain, awaited = [], task.get_coro()
    while awaited is not None and len(chain) < depth:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is None:
            break
        chain.append(f"{frame.f_code.co_name} ({frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno})")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return f"  {task.get_name()}: {' -> '.join(chain) or repr(task.get_coro())}"


async def start_gateway(settings: Settings, stages: StageClients, address: str | None = None) -> Gateway:
    stages = RetryingStages(stages, settings.gateway)
    if not settings.redis_url:
        raise ValueError("the gateway needs SOUNDLOOP_REDIS_URL (sessions live in Redis)")
    # Who may call and over what, checked before anything starts: a gateway that would be open by
    # mistake does not start at all.
    access = Access.from_settings(settings.security)
    credentials = server_credentials(settings.security)  # each server needs its own (gRPC fetches them once)
    store = SessionStore.from_settings(settings.redis_url, settings.session)
    address = address or f"{settings.gateway.host}:{settings.gateway.port}"
    status = ServingStatus()
    # NOT_SERVING until Redis answers and the stages are warm (their first calls load caches).
    async with not_serving_while_loading(address, status, credentials) as port:
        await store.ping()
        await warm_up(stages, settings.gateway.default_instructions)
        servicer = InteractionServicer(stages, store, settings, access)
        server, _ = await start_server(f"{address.rsplit(':', 1)[0]}:{port}",
                                       [(add_to_server, servicer, SERVICE_NAME)], status=status,
                                       credentials=server_credentials(settings.security),
                                       with_reflection=settings.security.reflection)
    watch = RedisWatch(store, status)
    watch.start()
    return Gateway(server, port, store, stages, status, watch, servicer)


async def _serve(settings: Settings, port: int | None) -> None:
    configure_tracing("soundloop-gateway")
    configure_metrics("soundloop-gateway", settings.metrics_port)
    address = f"{settings.gateway.host}:{port if port is not None else settings.gateway.port}"
    gateway = await start_gateway(settings, GrpcStageClients(settings.stages), address)
    log.info("gateway ready on port %d (stages: %s)", gateway.port, settings.stages.model_dump())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await gateway.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--profile", choices=["default", "light"], default=None)
    args = parser.parse_args()
    configure_logging()
    overrides = {"profile": args.profile} if args.profile else {}
    asyncio.run(_serve(load_settings(**overrides), args.port))


if __name__ == "__main__":
    main()
