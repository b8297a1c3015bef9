"""The span tree of one real turn, as an OTLP receiver gets it from soundloop's five processes.

    python -m bench.trace_tree [--profile light] [--mode process|serve]   # ~1 min: starts Redis and soundloop

Starts a real OTLP/gRPC trace receiver (opentelemetry-proto's TraceService) on loopback, the
local stack with OTEL_EXPORTER_OTLP_ENDPOINT pointing at it, asks one spoken question through
the public API with a caller `traceparent`, and prints the trace: span names, the process that
sent each, offsets from the session start and durations.
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator

import grpc
import numpy as np
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from soundloop.audio import codec
from soundloop.client import CallerScript, converse
from soundloop.demo import silence, speak
from soundloop.local_redis import local_redis_server
from soundloop.local_stack import local_stack
from soundloop.v1 import audio_pb2, interaction_pb2 as pb

PCM16K = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    """Keeps every span exported to it, with the service.name of the process that sent it."""

    def __init__(self):
        self.spans: list[tuple[str, object]] = []  # (service.name, opentelemetry.proto Span)
        self.instances: dict[str, set[str]] = {}  # service.name -> the service.instance.ids that sent spans
        self._lock = threading.Lock()

    def Export(self, request, context):
        with self._lock:
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                service = resource.get("service.name", "?")
                self.instances.setdefault(service, set()).add(resource.get("service.instance.id", ""))
                for scope in resource_spans.scope_spans:
                    self.spans += [(service, span) for span in scope.spans]
        return trace_service_pb2.ExportTraceServiceResponse()

    def trace(self, trace_id: str) -> list[tuple[str, object]]:
        with self._lock:
            return [(service, s) for service, s in self.spans if s.trace_id.hex() == trace_id]


@contextlib.contextmanager
def receiving() -> Iterator[tuple[Receiver, int]]:
    """A receiver on a free loopback port: (receiver, port)."""
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(4))
    received = Receiver()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(received, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield received, port
    finally:
        server.stop(0)


def exporter_env(port: int) -> dict[str, str]:
    """What a soundloop process needs to export its spans to the receiver at `port`, at once."""
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}", "OTEL_EXPORTER_OTLP_INSECURE": "true",
            "OTEL_BSP_SCHEDULE_DELAY": "200"}


def tree(spans: list[tuple[str, object]]) -> str:
    """One line per span, children indented under parents, ordered by start."""
    ids = {s.span_id for _, s in spans}
    start0 = min(s.start_time_unix_nano for _, s in spans)
    children: dict[bytes, list] = {}
    for service, s in spans:
        children.setdefault(s.parent_span_id if s.parent_span_id in ids else b"", []).append((service, s))
    lines = []

    def walk(parent: bytes, depth: int) -> None:
        for service, s in sorted(children.get(parent, []), key=lambda x: x[1].start_time_unix_nano):
            lines.append(f"{'  ' * depth}{s.name:<{44 - 2 * depth}} {service:<18} "
                         f"+{(s.start_time_unix_nano - start0) / 1e6:8.1f} ms  "
                         f"{(s.end_time_unix_nano - s.start_time_unix_nano) / 1e6:8.1f} ms")
            walk(s.span_id, depth + 1)

    walk(b"", 0)
    return "\n".join(lines)


async def one_turn(gateway: str, receiver: Receiver, question: str = "What is the capital of France?"):
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    audio = np.concatenate([silence(0.4), speak(question), silence(0.2)])
    record = await converse(gateway, pb.SessionConfig(input_audio=PCM16K),
                            CallerScript(audio, codec.MODEL_RATE, stop_after_turns=1, tail_s=20.0),
                            metadata=(("traceparent", f"00-{trace_id}-{parent_id}-01"),))
    return trace_id, parent_id, record


@contextlib.contextmanager
def _system(mode: str, profile: str, redis_url: str, env: dict[str, str]) -> Iterator[str]:
    """The gateway address of soundloop in process mode or under Ray Serve, exporting to the receiver."""
    if mode == "serve":
        from soundloop.local_redis import free_port
        from soundloop.serve_runner import serve_app

        with serve_app(profile, redis_url, free_port(), progress=lambda _: None, env=env) as address:
            yield address
        return
    with tempfile.TemporaryDirectory() as logs, local_stack(profile, redis_url, log_dir=logs, extra_env=env) as stack:
        yield stack.gateway_address


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=("light", "default"), default="light")
    parser.add_argument("--mode", choices=("process", "serve"), default="process",
                        help="stages as processes, or the Ray Serve app as `soundloop serve` runs it")
    args = parser.parse_args(argv)
    with receiving() as (received, port), local_redis_server() as redis_url, \
            _system(args.mode, args.profile, redis_url, exporter_env(port)) as gateway:
        trace_id, _, _ = asyncio.run(one_turn(gateway, received))
        time.sleep(2.0)  # the processes export every 200 ms
        print(f"trace {trace_id} ({args.profile} profile, {args.mode} mode):")
        print(tree(received.trace(trace_id)))


if __name__ == "__main__":
    main()
