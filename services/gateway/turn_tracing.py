"""A reply turn's span: "where did the 800 ms go" is one trace.

The span opens when the reply starts, so the LLM and TTS calls made for it (and their spans in
the stage processes) are its children. The loop measures with its own clock (time.monotonic()
on a real event loop) as it goes; the per-step children are written once the turn is over,
with those instants as explicit start and end times, so they cost nothing on the hot path.
"""
from __future__ import annotations

from opentelemetry import trace
from opentelemetry.trace import Span

from soundloop import telemetry
from soundloop.v1 import interaction_pb2 as pb

from .reply import ReplyTurn

_WALL = telemetry.WallClock()


def _turn_start(reply: ReplyTurn) -> float:
    clock = reply.clock
    return min(t for t in (clock.speech_end, clock.decision, clock.recognition and clock.recognition[0],
                           reply.timings.started) if t)


def open_turn(reply: ReplyTurn, session_id: str) -> Span:
    """The turn's span, opened as its reply starts (from when the caller stopped speaking, or the
    decision), so that the stage calls made for the reply are its children."""
    reply.span = telemetry.tracer().start_span(telemetry.TURN, start_time=_WALL.ns(_turn_start(reply)), attributes={
        telemetry.SESSION_ID: session_id, telemetry.TURN_ID: reply.turn_id,
        telemetry.TURN_CAUSE: pb.TurnCause.Name(reply.cause)})
    return reply.span


def record_turn(reply: ReplyTurn, session_id: str, outcome: str, metrics: pb.TurnMetrics,
                last_sent: float | None, ended: float) -> None:
    """Closes the turn's span with its outcome and latency breakdown, and adds a child per step as the
    gateway timed it. `last_sent`: when the turn's last audio left; `ended`: now, on the loop's clock."""
    clock, timings = reply.clock, reply.timings
    turn = reply.span or open_turn(reply, session_id)
    end = max(t for t in (last_sent, timings.generated, ended, _turn_start(reply)) if t)
    turn.set_attributes({telemetry.TURN_OUTCOME: outcome,
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
