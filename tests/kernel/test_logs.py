"""JSON log lines carry the ids of the call being served, and no caller content."""
from __future__ import annotations

import json
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider

from soundloop import logs, telemetry

pytestmark = pytest.mark.unit


def _line(**extra) -> dict:
    record = logging.LogRecord("services.gateway.x", logging.WARNING, __file__, 1, "turn %s stopped", ("t3",), None)
    return json.loads(logs.JsonFormatter().format(record))


def test_a_line_outside_any_call_has_time_level_logger_message_only():
    line = _line()
    assert (line["level"], line["logger"], line["message"]) == ("WARNING", "services.gateway.x", "turn t3 stopped")
    assert line["time"].endswith("+00:00")
    assert not {"session_id", "turn_id", "trace_id", "span_id"} & set(line)


def test_a_line_inside_a_call_carries_session_turn_trace_and_span_ids():
    span = TracerProvider().get_tracer("test").start_span("soundloop.turn")
    with telemetry.within(span, session_id="s-42", turn_id="t3"):
        line = _line()
    context = span.get_span_context()
    assert line["session_id"] == "s-42" and line["turn_id"] == "t3"
    assert line["trace_id"] == f"{context.trace_id:032x}" and line["span_id"] == f"{context.span_id:016x}"


@pytest.fixture
def root_logger():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def test_the_format_follows_the_environment(monkeypatch, root_logger):
    monkeypatch.setenv("SOUNDLOOP_LOG_FORMAT", "json")
    logs.configure_logging()
    assert isinstance(root_logger.handlers[0].formatter, logs.JsonFormatter)
    monkeypatch.setenv("SOUNDLOOP_LOG_FORMAT", "text")
    logs.configure_logging()
    assert not isinstance(root_logger.handlers[0].formatter, logs.JsonFormatter)


def test_decision_reasons_lose_the_callers_words_unless_content_is_allowed(monkeypatch):
    monkeypatch.delenv("SOUNDLOOP_TRACE_CONTENT", raising=False)
    assert telemetry.without_content("barge-in: 'wait, my card number is 4111'") == "barge-in: '...'"
    assert telemetry.without_content("backchannel " + repr("it's fine")) == "backchannel '...'"
    assert telemetry.without_content("long silence (2500 ms)") == "long silence (2500 ms)"
    monkeypatch.setenv("SOUNDLOOP_TRACE_CONTENT", "1")
    assert telemetry.without_content("barge-in: 'wait'") == "barge-in: 'wait'"
