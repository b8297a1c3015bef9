"""Turns a finished reply turn into spans: "where did the 800 ms go" is one trace.

The loop measures with its clock (time.monotonic() on a real event loop) as it goes; spans are written once the
turn is over, with those instants as explicit start and end times, so tracing
costs nothing on the hot path and nothing at all when no exporter is set.
"""
from __future__ import annotations

from opentelemetry import trace
from opentelemetry.trace import Span

from soundloop import telemetry
from soundloop.v1 import interaction_pb2 as pb

from .reply import ReplyTurn

_WALL = telemetry.WallClock()


def record_turn(reply: ReplyTurn, session_id: str, outcome: str, metrics: pb.TurnMetrics,
                last_sent: float | None, ended: float) -> None:
    """`last_sent`: when the turn's last audio left; `ended`: now, on the loop's clock."""
    clock, timings = reply.clock, reply.timings
    tracer = telemetry.tracer()
    start = min(t for t in (clock.speech_end, clock.decision, clock.recognition and clock.recognition[0]) if t)
    end = max(t for t in (last_sent, timings.generated, ended) if t)
    turn = tracer.start_span(telemetry.TURN, start_time=_WALL.ns(start), attributes={
        telemetry.SESSION_ID: session_id, telemetry.TURN_ID: reply.turn_id,
        telemetry.TURN_CAUSE: pb.TurnCause.Name(reply.cause), telemetry.TURN_OUTCOME: outcome,
        **{telemetry.LATENCY_PREFIX + field.name: value.ToNanoseconds() / 1e6
           for field, value in metrics.ListFields()}})
    if telemetry.trace_content():
        turn.set_attribute(telemetry.PROMPT, reply.prompt)
        turn.set_attribute(telemetry.REPLY, reply.text)
    _child(turn, telemetry.RECOGNITION, *(clock.recognition or (None, None)))
    _child(turn, telemetry.ENDPOINTING, clock.speech_end, clock.decision)
    _child(turn, telemetry.LLM_FIRST_TOKEN, clock.decision, timings.first_token or None)
    _child(turn, telemetry.LLM_GENERATE, timings.started, timings.generated or None)
    _child(turn, telemetry.TTS_FIRST_AUDIO, timings.first_clause or None, timings.first_audio or None)
    turn.end(end_time=_WALL.ns(end))


def _child(parent: Span, name: str, start: float | None, end: float | None) -> None:
    if start is None or end is None:
        return
    ctx = trace.set_span_in_context(parent)
    span = telemetry.tracer().start_span(name, context=ctx, start_time=_WALL.ns(start))
    span.end(end_time=_WALL.ns(max(start, end)))
