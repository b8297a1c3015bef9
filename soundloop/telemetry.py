"""OpenTelemetry tracing across the five processes: a session span and a span per reply turn at the
gateway, and a span for each stage call's work in the stage process, all in one trace.

Configured by the standard variables: set OTEL_EXPORTER_OTLP_ENDPOINT (an
OpenTelemetry Collector, exported on to Jaeger or Tempo) and spans go out over
OTLP/gRPC; OTEL_SERVICE_NAME names the process. Without them nothing is
exported. Caller content (transcripts, reply text) is personal data: it is only
put on spans when SOUNDLOOP_TRACE_CONTENT=1.

Context crosses process boundaries as W3C `traceparent` (and `baggage`, which
carries the session and turn ids) in gRPC metadata. A caller's own `traceparent`
on Converse becomes the session span's parent.

Per-chunk calls (AnalyzeChunk, and Decide while the decision is to keep listening:
ten a second per call) get no span of their own: a span each would cost more than
the work and bury the turn in noise. They are aggregated instead: the turn span's
latency attributes say how long the caller waited at each step, and a Decide that
changes something (respond, stop, react to a sound) does get a span.

Span and attribute names live here and nowhere else.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import sys
import time
from collections.abc import Iterator, Mapping, Sequence

from opentelemetry import baggage, context as otel_context, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from soundloop import metrics

SESSION = "soundloop.session"
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
SESSION_RESUMED = "soundloop.session.resumed"

# Spans of the stage processes, children of the gateway's session or turn span.
ENCODER_TRANSCRIBE = "soundloop.encoder.TranscribeUtterance"
ENCODER_CLIP = "soundloop.encoder.TranscribeClip"
DECIDER_DECIDE = "soundloop.decider.Decide"
LLM_GENERATE_STAGE = "soundloop.llm.Generate"
TTS_SYNTHESIZE = "soundloop.tts.Synthesize"

STAGE = "soundloop.stage"
MODEL = "soundloop.model"
PROFILE = "soundloop.profile"
POD = "k8s.pod.name"
INSTANCE = "service.instance.id"  # the Serve replica, or host-pid of a standalone process
AUDIO_SECONDS = "soundloop.audio.seconds"
DECISION_ACTION = "soundloop.decision.action"
DECISION_REASON = "soundloop.decision.reason"
END_OF_TURN_PROBABILITY = "soundloop.end_of_turn.probability"
TTS_CHARACTERS = "soundloop.tts.characters"
TTS_FIRST_AUDIO_MS = "soundloop.tts.first_audio_ms"
# OpenTelemetry's gen_ai semantic conventions, for the LLM stage.
GEN_AI_OPERATION = "gen_ai.operation.name"
GEN_AI_MODEL = "gen_ai.request.model"
GEN_AI_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
LLM_CACHED_TOKENS = "soundloop.llm.cached_input_tokens"
LLM_FIRST_TOKEN_MS = "soundloop.llm.time_to_first_token_ms"

# Baggage keys: the ids every span of a call carries, set by the gateway, read by the stages.
_SESSION_KEY, _TURN_KEY = "soundloop.session.id", "soundloop.turn.id"
_PROPAGATOR = CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])

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

    attributes = {"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name),
                  INSTANCE: _instance_id()}
    if os.environ.get("POD_NAME"):  # Kubernetes' downward API (deploy/kuberay/rayservice.yaml)
        attributes[POD] = os.environ["POD_NAME"]
    if os.environ.get("SOUNDLOOP_PROFILE"):
        attributes[PROFILE] = os.environ["SOUNDLOOP_PROFILE"]
    resource = Resource.create(attributes)
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = True


def _instance_id() -> str:
    """Which replica or process sent a span: the Serve replica's id, else host and pid."""
    if "ray" in sys.modules:
        try:
            from ray import serve

            return serve.get_replica_context().replica_id.unique_id
        except Exception:  # not inside a Serve replica
            pass
    return f"{socket.gethostname()}-{os.getpid()}"


def trace_content() -> bool:
    return os.environ.get("SOUNDLOOP_TRACE_CONTENT") == "1"


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def without_content(reason: str) -> str:
    """A decision reason for spans and logs: the caller's words it quotes are elided unless
    SOUNDLOOP_TRACE_CONTENT=1 ("barge-in: 'wait a moment'" -> "barge-in: '...'")."""
    return reason if trace_content() else _QUOTED.sub("'...'", reason)


def tracer() -> Tracer:
    return trace.get_tracer("soundloop")


class WallClock:
    """Converts time.monotonic() readings (what the loop measures with) to epoch nanoseconds."""

    def __init__(self) -> None:
        self._offset_ns = time.time_ns() - time.monotonic_ns()

    def ns(self, monotonic_s: float) -> int:
        return int(monotonic_s * 1e9) + self._offset_ns


def enabled() -> bool:
    return _configured


def outgoing_metadata() -> tuple[tuple[str, str], ...] | None:
    """The current trace context and ids as gRPC metadata (None when not tracing: nothing to send)."""
    if not _configured:
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return tuple(carrier.items()) or None


def carrier() -> dict[str, str] | None:
    """The same as a dict, for transports without metadata (Ray Serve handle calls)."""
    metadata = outgoing_metadata()
    return dict(metadata) if metadata else None


@contextlib.contextmanager
def remote_parent(metadata: Sequence[tuple[str, str | bytes]] | Mapping[str, str] | None) -> Iterator[None]:
    """Makes the context a caller sent (`traceparent`, `baggage`) current while the call is served."""
    items = metadata.items() if isinstance(metadata, Mapping) else (metadata or ())
    received = {k: v for k, v in items if isinstance(v, str)}
    if not received:
        yield
        return
    token = otel_context.attach(_PROPAGATOR.extract(received))
    try:
        yield
    finally:
        otel_context.detach(token)


@contextlib.contextmanager
def within(span: Span, session_id: str = "", turn_id: str = "") -> Iterator[None]:
    """Makes `span` and the ids current, e.g. while creating the tasks that work for it (they copy
    the context when created, so the calls they make later carry it)."""
    ctx = trace.set_span_in_context(span)
    if session_id:
        ctx = baggage.set_baggage(_SESSION_KEY, session_id, ctx)
    if turn_id:
        ctx = baggage.set_baggage(_TURN_KEY, turn_id, ctx)
    token = otel_context.attach(ctx)
    try:
        yield
    finally:
        otel_context.detach(token)


def call_ids() -> dict[str, str]:
    """The session and turn ids of the call being served (from the caller's baggage), as attributes."""
    ids = {SESSION_ID: baggage.get_baggage(_SESSION_KEY), TURN_ID: baggage.get_baggage(_TURN_KEY)}
    return {k: str(v) for k, v in ids.items() if v}


def stage_span(name: str, stage: str, start_time: int | None = None, **attributes) -> Span:
    """A span for a stage's work on one call, child of the caller's context; the caller ends it.
    Not made current: stage code opens no spans inside it, and a span made current inside an
    async generator would have to be detached in whichever task closes the generator."""
    return tracer().start_span(name, kind=SpanKind.SERVER, start_time=start_time,
                               attributes={STAGE: stage, **call_ids(), **attributes})


@contextlib.contextmanager
def ending(span: Span, stage: str = "", operation: str = "") -> Iterator[Span]:
    """Ends `span` when the block exits; an exception (not a cancellation) sets its status to error.
    With `stage` and `operation`, the block's duration also goes to soundloop.stage.work.duration."""
    started = time.perf_counter()
    try:
        yield span
    except (GeneratorExit, asyncio.CancelledError):
        span.set_attribute("soundloop.cancelled", True)
        raise
    except BaseException as exc:
        span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        raise
    finally:
        span.end()
        if stage:
            metrics.STAGE_WORK.record(time.perf_counter() - started, {"stage": stage, "operation": operation})
