"""bench.compare's table and noise judgement, on small results made the way bench.run makes them
(scenario labels, outcomes, bench.scoring's scores) but with made-up reply times. No servers."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from bench import compare, noise_judgement as judged, report
from bench.outcome import Outcome, ReplyTurn
from bench.scenarios import Scenario
from bench.scoring import score, turn_latencies_ms

pytestmark = pytest.mark.unit

TURN_LATENCY = "turn-taking: speech end -> first reply audio"
SUCCESS = "turn-taking: success rate"
LATENCY_8K = "turn-taking latency, 8 kHz G.711 callers"


def results(latencies_s: list[float | None], *, cpu: float = 0.5, labels: bool = True, profile: str = "light",
            heard: str = "what time is it") -> dict:
    """A results.json of soundloop on turn-taking scenarios ("what time is it", recognised as `heard`) answered
    after `latencies_s` (None: no reply); every other scenario is 8 kHz G.711."""
    scenarios = [Scenario(f"turn_taking-{i:03d}", "turn_taking", "respond", np.zeros(0, np.float32),
                          telephony=i % 2 == 1, speech_end_s=2.0, reference="What time is it?")
                 for i in range(len(latencies_s))]
    outcomes = [Outcome(s.id, "soundloop", transcripts=[heard], call_s=8.0,
                        turns=[] if lat is None else [ReplyTurn(2.0 + lat, 4.0 + lat, text="It is noon.")])
                for s, lat in zip(scenarios, latencies_s)]
    system = {"scores": score(scenarios, outcomes),
              "resources": {"cpu_s_total": cpu * 8 * len(scenarios), "cpu_s_per_audio_s": cpu},
              "turn_latencies_ms": turn_latencies_ms(scenarios, outcomes),
              "outcomes": [o.as_json() for o in outcomes]}
    out = {"meta": {"date": "2026-12-01T00:00:00+00:00", "commit": "abc1234", "machine": "2 cores (test), Linux",
                    "seed": 7, "quick": True, "scenarios": len(scenarios), "per_category": {"turn_taking": 20}},
           "scenarios": [s.meta for s in scenarios],
           "profiles": {profile: {"systems": {"soundloop": system}, "skipped": {}}}}
    if not labels:
        del out["scenarios"]
    return json.loads(json.dumps(out))  # as read back from disk


def jittered(centre_s: float, n: int, seed: int) -> list[float]:
    return list(np.round(centre_s + np.random.default_rng(seed).uniform(-0.15, 0.15, n), 3))


def rows(base: list[dict], head: list[dict]) -> dict[str, judged.Row]:
    return {r.label: r for r in judged.compare_profile(base, head, "light")}


def test_one_row_per_headline_metric():
    r = results(jittered(0.8, 20, 1))
    assert [row.label for row in judged.compare_profile([r], [r], "light")] == \
        [label for label, _, _ in report.headline_metrics(r["profiles"]["light"], "soundloop")]


def test_identical_runs_are_within_noise():
    r = results(jittered(0.8, 20, 1))
    table = rows([r], [r])
    assert not any(row.worse for row in table.values())
    assert table[TURN_LATENCY].verdict == "within noise"
    assert table[TURN_LATENCY].delta == "+0 / +0"
    assert table[SUCCESS].verdict == "within noise"


def test_two_runs_of_the_same_speed_are_within_noise():
    table = rows([results(jittered(0.8, 20, 1))], [results(jittered(0.8, 20, 2))])
    assert table[TURN_LATENCY].verdict == "within noise"


def test_a_clearly_slower_head_is_flagged_on_latency_only():
    table = rows([results(jittered(0.8, 20, 1))], [results(jittered(1.3, 20, 2))])
    assert table[TURN_LATENCY].worse
    assert table[TURN_LATENCY].head.startswith("12") and "(n=20)" in table[TURN_LATENCY].head
    assert table[LATENCY_8K].worse  # per-scenario samples from the labels: 10 a side
    assert not table[SUCCESS].worse
    md = judged.markdown({"base": {"light": [results(jittered(0.8, 20, 1))]},
                           "head": {"light": [results(jittered(1.3, 20, 2))]}}, {"base": "b", "head": "h"}, [])
    assert f"Worse beyond noise: light: {TURN_LATENCY}; light: {LATENCY_8K}." in md


def test_a_faster_head_is_better_not_worse():
    table = rows([results(jittered(1.3, 20, 1))], [results(jittered(0.8, 20, 2))])
    assert table[TURN_LATENCY].verdict == "better beyond noise"


def test_tiny_samples_are_never_flagged():
    table = rows([results([0.8, 0.81, 0.79])], [results([2.5, 2.6, 2.4])])
    assert not any(row.worse for row in table.values())
    assert table[TURN_LATENCY].verdict.startswith("too few to tell")
    assert table[SUCCESS].verdict.startswith("too few to tell")


def test_rounds_are_pooled():
    base = [results(jittered(0.8, 4, 1)), results(jittered(0.8, 4, 3))]
    head = [results(jittered(1.3, 4, 2)), results(jittered(1.3, 4, 4))]
    assert rows(base[:1], head[:1])[TURN_LATENCY].verdict.startswith("too few to tell")
    table = rows(base, head)
    assert "(n=8)" in table[TURN_LATENCY].base and table[TURN_LATENCY].worse
    assert table[SUCCESS].base == "1.00 (8/8)"


def test_a_success_rate_drop_needs_enough_calls():
    many = rows([results(jittered(0.8, 20, 1))], [results(jittered(0.8, 10, 2) + [None] * 10)])
    assert many[SUCCESS].worse and many[SUCCESS].head == "0.50 (10/20)"
    few = rows([results([0.8] * 5)], [results([0.8, 0.8, None, None, None])])
    assert few[SUCCESS].verdict == "within noise"  # 5/5 against 2/5: Fisher p = 0.17
    tiny = rows([results([0.8] * 3)], [results([None] * 3)])
    assert tiny[SUCCESS].verdict.startswith("too few to tell")  # even 3/3 against 0/3 is p = 0.1


def test_wer_is_judged_on_the_scenarios_words():
    table = rows([results([0.8] * 20)], [results([0.8] * 20, heard="what dime is it")])
    wer = table["ASR WER, synthetic voices"]
    assert wer.base == "0.000 (80 words)" and wer.head == "0.250 (80 words)" and wer.worse
    assert rows([results([0.8] * 4)], [results([0.8] * 4, heard="what dime is it")])[
        "ASR WER, synthetic voices"].verdict.startswith("too few to tell")


def test_cpu_is_judged_only_with_three_rounds():
    one = rows([results([0.8] * 6, cpu=0.5)], [results([0.8] * 6, cpu=0.9)])
    assert one[report.CPU_LABEL].verdict.startswith("one value a run")
    three = rows([results([0.8] * 6, cpu=c) for c in (0.50, 0.52, 0.49)],
                 [results([0.8] * 6, cpu=c) for c in (0.61, 0.60, 0.63)])
    assert three[report.CPU_LABEL].worse
    mixed = rows([results([0.8] * 6, cpu=c) for c in (0.50, 0.62, 0.49)],
                 [results([0.8] * 6, cpu=c) for c in (0.61, 0.60, 0.63)])
    assert mixed[report.CPU_LABEL].verdict == "within noise"


def test_without_scenario_labels_only_the_raw_turn_latencies_are_judged():
    table = rows([results(jittered(0.8, 20, 1), labels=False)], [results(jittered(1.3, 20, 2), labels=False)])
    assert table[TURN_LATENCY].worse
    assert table[LATENCY_8K].verdict.startswith("not judged")


def test_per_scenario_samples_match_the_aggregate_scores():
    r = results(jittered(0.8, 20, 1))
    side = judged.Side([r], "light")
    entry = r["profiles"]["light"]["systems"]["soundloop"]["scores"]["categories"]["turn_taking"]["latency_8k_mulaw"]
    samples = side.latencies(("turn_taking", "latency_8k_mulaw"))
    assert len(samples) == entry["n"] and np.percentile(samples, 50) == pytest.approx(entry["p50_ms"], abs=0.1)
    raw = side.latencies(judged.RAW_TURN_LATENCY)
    assert sorted(raw) == pytest.approx(sorted(side.latencies(("turn_taking", "latency"))), abs=0.1)


def test_fisher_exact_matches_the_tea_tasting_example():
    # Fisher's lady tasting tea: 3 of 4 right each way; two-sided p = 34/70.
    assert judged.fisher_exact(3, 4, 1, 4) == pytest.approx(34 / 70)
    assert judged.fisher_exact(5, 5, 5, 5) == pytest.approx(1.0)
    assert judged.fisher_exact(0, 4, 4, 4) == pytest.approx(2 / 70)


def test_the_bad_direction_follows_the_metric():
    assert judged.lower_is_better("pause: takeover rate (lower is better)", "rate")
    assert not judged.lower_is_better("turn-taking: success rate", "rate")
    assert judged.lower_is_better("ASR WER, real recordings", "wer")
    assert judged.verdict((0.1, 0.3), lower_is_better=True) == judged.WORSE
    assert judged.verdict((-0.3, -0.1), lower_is_better=False) == judged.WORSE
    assert judged.verdict((-0.1, 0.3), lower_is_better=True) == "within noise"


def test_report_headline_is_built_from_headline_metrics():
    r = results(jittered(0.8, 20, 1))
    table = report.headline(r)
    for label, _, _ in report.headline_metrics(r["profiles"]["light"], "soundloop"):
        assert f"| {label} | light |" in table


def test_probe_accepts_this_tree_and_refuses_code_from_elsewhere(tmp_path):
    here = compare.working_tree(compare.ROOT)
    origins = compare.probe(here, compare.child_env(here, tmp_path))
    assert origins["services.gateway.server"] == str(compare.ROOT / "services" / "gateway" / "server.py")
    # A tree with the benchmark but no services: the stage servers would come from the editable install.
    partial = compare.Tree(tmp_path / "tree", "abc1234", "a partial tree")
    shutil.copytree(compare.ROOT / "bench", partial.path / "bench", ignore=shutil.ignore_patterns("__pycache__"))
    with pytest.raises(compare.CompareError, match="services.gateway.server"):
        compare.probe(partial, compare.child_env(partial, tmp_path))
