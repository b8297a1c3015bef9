"""bench.llm_affinity's report: both arms and their ratio (the measurement itself needs a Ray cluster)."""
import pytest

from bench.llm_affinity import main, report

pytestmark = pytest.mark.unit


def test_the_report_gives_both_arms_and_the_ratio():
    text = report({"affinity": {"n": 18, "p50_ms": 140.0, "p95_ms": 182.0},
                   "default": {"n": 18, "p50_ms": 207.0, "p95_ms": 436.0}}, "light", 6, 4)
    assert "| affinity (session id as multiplexed model id) | 18 | 140.0 | 182.0 |" in text
    assert "| default routing | 18 | 207.0 | 436.0 |" in text
    assert "affinity / default: p50 0.68, p95 0.42" in text


def test_one_turn_is_refused_since_the_first_is_not_measured():
    with pytest.raises(SystemExit):
        main(["--turns", "1"])
