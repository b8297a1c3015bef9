"""Container healthcheck: exits 0 when a gRPC server reports SERVING (grpc.health.v1).

    python deploy/docker/grpc_health_probe.py 127.0.0.1:50061
    python deploy/docker/grpc_health_probe.py 127.0.0.1:50051 --service soundloop.v1.Interaction

Standalone on purpose (only grpcio and grpcio-health-checking): Docker runs it every
few seconds, so it must not import soundloop or any model runtime. Exit status 1
(unhealthy) on NOT_SERVING, an unknown service, a timeout or a refused connection,
with the reason on stderr, which `docker inspect` shows.
"""
from __future__ import annotations

import argparse
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def probe(address: str, service: str = "", timeout_s: float = 3.0) -> tuple[bool, str]:
    """Asks `address` for the health of `service` ("" = the whole server)."""
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout_s)
        except grpc.RpcError as error:
            return False, f"{error.code().name}: {error.details()}"
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    return reply.status == health_pb2.HealthCheckResponse.SERVING, status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("address", help="host:port of the gRPC server")
    parser.add_argument("--service", default="", help="service name to check (default: the server)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")
    args = parser.parse_args(argv)
    healthy, detail = probe(args.address, args.service, args.timeout)
    target = f"{args.address} {args.service}".strip()
    print(f"{target}: {detail}", file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
