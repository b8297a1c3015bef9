"""OpenTelemetry tracing: one trace per reply turn, one child span per stage.

Configured by the standard variables: set OTEL_EXPORTER_OTLP_ENDPOINT (an
OpenTelemetry Collector, exported on to Jaeger or Tempo) and spans go out over
OTLP/gRPC; OTEL_SERVICE_NAME names the process. Without them nothing is
exported. Caller content (transcripts, reply text) is personal data: it is only
put on spans when SOUNDLOOP_TRACE_CONTENT=1.

Span and attribute names live here and nowhere else.
"""
from __future__ import annotations

import os
import time

from opentelemetry import trace
from opentelemetry.trace import Tracer

TURN = "soundloop.turn"
RECOGNITION = "soundloop.encoder.recognize"
ENDPOINTING = "soundloop.decider.endpoint"
LLM_FIRST_TOKEN = "soundloop.llm.first_token"
LLM_GENERATE = "soundloop.llm.generate"
TTS_FIRST_AUDIO = "soundloop.tts.first_audio"

SESSION_ID = "soundloop.session.id"
TURN_ID = "soundloop.turn.id"
TURN_CAUSE = "soundloop.turn.cause"
TURN_OUTCOME = "soundloop.turn.outcome"  # "completed" | "interrupted"
PROMPT = "soundloop.turn.prompt"  # content: only with SOUNDLOOP_TRACE_CONTENT=1
REPLY = "soundloop.turn.reply"
LATENCY_PREFIX = "soundloop.latency."  # + TurnMetrics field name, in ms

_configured = False


def configure_tracing(service_name: str) -> None:
    """Installs an OTLP exporter if the OTEL_* environment asks for one. Idempotent."""
    global _configured
    if _configured or not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = True


def trace_content() -> bool:
    return os.environ.get("SOUNDLOOP_TRACE_CONTENT") == "1"


def tracer() -> Tracer:
    return trace.get_tracer("soundloop")


class WallClock:
    """Converts time.monotonic() readings (what the loop measures with) to epoch nanoseconds."""

    def __init__(self) -> None:
        self._offset_ns = time.time_ns() - time.monotonic_ns()

    def ns(self, monotonic_s: float) -> int:
        return int(monotonic_s * 1e9) + self._offset_ns
