"""The instruments' contract: label keys are declared up front (Ray's metrics API needs them, and a
label the code invents would be a new series nobody's dashboard queries), and each instrument's
Prometheus name is what the exporters produce."""
from __future__ import annotations

import pytest

from soundloop import metrics

pytestmark = pytest.mark.unit


def test_a_label_that_is_not_declared_is_refused_at_the_call_site():
    metrics.STAGE_CALL.record(0.01, {"stage": "encoder", "method": "AnalyzeChunk"})
    metrics.ERRORS.add(1, {"stage": "llm"})  # a declared key may be left out
    with pytest.raises(ValueError, match="session"):
        metrics.STAGE_CALL.record(0.01, {"stage": "encoder", "session": "s1"})
    with pytest.raises(ValueError, match="reason"):
        metrics.DECISIONS.add(1, {"action": "ACTION_RESPOND", "reason": "x"})


def test_under_ray_a_left_out_label_is_an_empty_value():
    assert metrics.SESSIONS._ray_tags({"outcome": "started"}) == {"outcome": "started", "reason": ""}


def test_prometheus_names_follow_the_exporter_conventions():
    assert metrics.TURN_LATENCIES["voice_to_voice"].prometheus_name == "soundloop_turn_voice_to_voice_seconds"
    assert metrics.ERRORS.prometheus_name == "soundloop_errors_total"
    assert metrics.SESSIONS_ACTIVE.prometheus_name == "soundloop_sessions_active"
    assert {i.name for i in metrics._INSTRUMENTS} == {*metrics.HISTOGRAMS, *metrics.COUNTERS,
                                                      *(set(metrics.GAUGES) - {metrics.AUDIO_BACKLOG})}
