"""Builds the grpc.aio servers of every soundloop process, with health and reflection."""
from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

log = logging.getLogger(__name__)

# Audio clips for offline tasks can be large: 64 MiB is ~35 min of 16 kHz PCM16.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
SERVER_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    # Several gateway replicas on one node share the port; the kernel balances connections.
    ("grpc.so_reuseport", 1),
]


class ServingStatus:
    """What the process's grpc.health.v1 service says, for every service it serves ("" included):
    SERVING, or NOT_SERVING while a dependency is down (the gateway's Redis) or while draining
    after SIGTERM, so load balancers and Kubernetes stop sending new calls."""

    def __init__(self) -> None:
        self.servicer = health.aio.HealthServicer()
        self.names: list[str] = [""]
        self.serving = False

    async def set(self, serving: bool) -> None:
        self.serving = serving
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in self.names:
            await self.servicer.set(name, status)


async def start_server(
    address: str,
    register: Sequence[tuple[Callable[[object, grpc.aio.Server], None], object, str]],
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    status: ServingStatus | None = None,
    serving: bool = True,
    unknown: grpc.GenericRpcHandler | None = None,
    credentials: grpc.ServerCredentials | None = None,
    with_reflection: bool = True,
) -> tuple[grpc.aio.Server, int]:
    """Starts a server on `address` ("host:port", port 0 picks a free one).

    `register` lists (add_XServicer_to_server, servicer, full service name).
    Returns the server and the bound port. Health reports SERVING for each service once
    started (NOT_SERVING if not `serving`); pass `status` to change that later. Without
    `credentials` the port is plaintext (the stages: they sit behind NetworkPolicies).
    """
    status = status or ServingStatus()
    server = grpc.aio.server(options=SERVER_OPTIONS, interceptors=list(interceptors))
    health_pb2_grpc.add_HealthServicer_to_server(status.servicer, server)
    names = [health.SERVICE_NAME, reflection.SERVICE_NAME]
    for add, servicer, name in register:
        add(servicer, server)
        names.append(name)
        status.names.append(name)
    if with_reflection:
        reflection.enable_server_reflection(names, server)
    if unknown is not None:  # after the services above: it gets only the methods they do not serve
        server.add_generic_rpc_handlers((unknown,))
    port = server.add_secure_port(address, credentials) if credentials else server.add_insecure_port(address)
    if port == 0:
        raise RuntimeError(f"could not bind {address}")
    await server.start()
    await status.set(serving)
    log.info("gRPC server on port %d: %s", port, ", ".join(n for _, _, n in register) or "health only")
    return server, port


@contextlib.asynccontextmanager
async def not_serving_while_loading(address: str, status: ServingStatus,
                                    credentials: grpc.ServerCredentials | None = None) -> AsyncIterator[int]:
    """Health on `address` says NOT_SERVING while the body loads models, instead of the port
    refusing connections (a refused probe looks like a dead process). Yields the bound port: the
    real server starts on it inside the body (SO_REUSEPORT lets both hold it for that moment),
    then this health-only server goes; connections it still held reconnect to the real one."""
    loading, port = await start_server(address, [], status=status, serving=False, unknown=_StillLoading(),
                                       credentials=credentials)
    try:
        yield port
    finally:
        await loading.stop(0)


class _StillLoading(grpc.GenericRpcHandler):
    """Answers every method but health and reflection while the models load: UNAVAILABLE, which
    clients retry, not UNIMPLEMENTED, which they would take for a wrong server."""

    def service(self, handler_call_details):
        async def refuse(_requests, context: grpc.aio.ServicerContext):
            await context.abort(grpc.StatusCode.UNAVAILABLE, "this server is still loading its models; retry shortly")
        return grpc.stream_stream_rpc_method_handler(refuse)
