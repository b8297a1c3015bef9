"""Builds the grpc.aio servers of every soundloop process, with health and reflection."""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

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


async def start_server(
    address: str,
    register: Sequence[tuple[Callable[[object, grpc.aio.Server], None], object, str]],
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
) -> tuple[grpc.aio.Server, int]:
    """Starts a server on `address` ("host:port", port 0 picks a free one).

    `register` lists (add_XServicer_to_server, servicer, full service name).
    Returns the server and the bound port. Health reports SERVING for each service.
    """
    server = grpc.aio.server(options=SERVER_OPTIONS, interceptors=list(interceptors))
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [health.SERVICE_NAME, reflection.SERVICE_NAME]
    for add, servicer, name in register:
        add(servicer, server)
        names.append(name)
    reflection.enable_server_reflection(names, server)
    port = server.add_insecure_port(address)
    if port == 0:
        raise RuntimeError(f"could not bind {address}")
    await server.start()
    for _, _, name in register:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    log.info("gRPC server on port %d: %s", port, ", ".join(n for _, _, n in register))
    return server, port
