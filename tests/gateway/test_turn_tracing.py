"""A finished turn becomes one trace: a turn span with one child per stage, latency attributes,
and no caller content unless asked for."""
import time

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.gateway.reply import ReplyTimings, ReplyTurn
from services.gateway.turn_metrics import TurnClock
from services.gateway.turn_tracing import record_turn
from soundloop import telemetry
from soundloop.v1 import interaction_pb2 as pb

pytestmark = pytest.mark.unit

EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def provider():
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(tracer_provider)
    yield


def finished_turn() -> tuple[ReplyTurn, pb.TurnMetrics]:
    t0 = time.monotonic() - 2.0
    clock = TurnClock(decision=t0 + 0.5, speech_end=t0, recognition=(t0 + 0.1, t0 + 0.45))
    reply = ReplyTurn("t3", pb.TURN_CAUSE_SPEECH, "what is the capital", [], clock, output=None)
    reply.text = "Paris."
    reply.timings = ReplyTimings(started=t0 + 0.5, first_token=t0 + 0.6, first_clause=t0 + 0.7,
                                 first_audio=t0 + 0.75, generated=t0 + 0.9)
    metrics = reply.clock.metrics(t0 + 0.6, t0 + 0.7, t0 + 0.75, t0 + 0.8, t0 + 1.5)
    return reply, metrics


def test_turn_span_has_stage_children_and_latency_attributes(monkeypatch):
    monkeypatch.delenv("SOUNDLOOP_TRACE_CONTENT", raising=False)
    EXPORTER.clear()
    reply, metrics = finished_turn()
    record_turn(reply, "s1", "completed", metrics, None, time.monotonic())

    spans = {s.name: s for s in EXPORTER.get_finished_spans()}
    turn = spans[telemetry.TURN]
    assert set(spans) == {telemetry.TURN, telemetry.RECOGNITION, telemetry.ENDPOINTING,
                          telemetry.LLM_FIRST_TOKEN, telemetry.LLM_GENERATE, telemetry.TTS_FIRST_AUDIO}
    for name, span in spans.items():
        if name != telemetry.TURN:
            assert span.parent.span_id == turn.context.span_id
            assert span.context.trace_id == turn.context.trace_id
    assert turn.attributes[telemetry.SESSION_ID] == "s1"
    assert turn.attributes[telemetry.TURN_OUTCOME] == "completed"
    assert turn.attributes[telemetry.LATENCY_PREFIX + "voice_to_voice"] == pytest.approx(800, abs=1)
    assert turn.attributes[telemetry.LATENCY_PREFIX + "recognition"] == pytest.approx(350, abs=1)
    recognition = spans[telemetry.RECOGNITION]
    assert (recognition.end_time - recognition.start_time) / 1e6 == pytest.approx(350, abs=1)
    assert telemetry.PROMPT not in turn.attributes  # caller content stays out by default


def test_content_only_when_asked(monkeypatch):
    monkeypatch.setenv("SOUNDLOOP_TRACE_CONTENT", "1")
    EXPORTER.clear()
    reply, metrics = finished_turn()
    record_turn(reply, "s1", "completed", metrics, None, time.monotonic())
    turn = next(s for s in EXPORTER.get_finished_spans() if s.name == telemetry.TURN)
    assert turn.attributes[telemetry.PROMPT] == "what is the capital"
