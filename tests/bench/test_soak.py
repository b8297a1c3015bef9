"""The soak's figures from its samples: growth after warm-up, first and last minute's latency."""
import pytest

from bench.soak import WARM_UP_S, Turn, figures

pytestmark = pytest.mark.unit


def test_figures_measure_growth_from_warm_up_and_compare_the_first_and_last_minute():
    samples = [{"at_s": t, "redis_used_mb": 1.0 + t / 1000, "redis_keys": 3, "gateway_rss_mb": 100.0 + (t > 30) * 10,
                "gateway_cpu_s": t / 10} for t in range(0, 601, 5)]
    turns = [Turn(WARM_UP_S + i, 0.8) for i in range(0, 60, 6)] + [Turn(560.0 + i, 1.0) for i in range(0, 40, 8)]
    turns.append(Turn(300.0, None, "UNAVAILABLE: x"))
    result = figures(samples, turns, ["gateway"])
    assert result["rss_mb_after_warm_up"] == {"gateway": 110.0}  # the step before warm-up is not growth
    assert result["rss_growth_pct"] == {"gateway": 0.0}
    assert result["voice_to_voice_first_minute_ms"]["p95_ms"] == 800.0
    assert result["voice_to_voice_last_minute_ms"]["p95_ms"] == 1000.0
    assert result["errors"] == 1 and result["calls"] == 16
    assert result["redis_used_mb"]["end"] == 1.6
