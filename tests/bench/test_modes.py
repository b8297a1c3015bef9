"""soundloop in two modes (Ray Serve and plain processes) in the benchmark's results, report and before/after
comparison; the fresh server's first call; the load ramp's stopping rule; the client's niceness. Made-up
results and fake load levels: no servers, no timing."""
from __future__ import annotations

import copy
import operator
import os
import subprocess
import sys

import numpy as np
import pytest

from bench import child_process, compare, load, noise_judgement as judged, process_stats, report, run, scoring
from bench.outcome import Outcome, ReplyTurn
from bench.scenarios import Scenario
from bench.scoring import first_call
from tests.bench.test_compare import jittered, results

pytestmark = pytest.mark.unit

TURN_LATENCY = "turn-taking: speech end -> first reply audio"


def system_of(r: dict) -> dict:
    return r["profiles"]["light"]["systems"]["soundloop"]


def two_modes(serve_s: float, process_s: float, n: int = 20, *, first_ms: float | None = 900.0) -> dict:
    """Results as bench.run now writes them: `soundloop` under Serve and `soundloop-process`, plus naive."""
    serve, process, naive = (system_of(results(jittered(c, n, i))) for i, c in
                             enumerate((serve_s, process_s, 2.0), start=1))
    serve["mode"], process["mode"] = "serve", "process"
    serve["nice"] = {"serve_replicas": 15, "client": 15}
    for system in (serve, process):
        steady = system["scores"]["categories"]["turn_taking"]["latency"]["p50_ms"]
        system["first_call"] = {"scenario": "turn_taking-000", "voice_to_voice_ms": first_ms, "error": None,
                                "steady_state_p50_ms": steady,
                                "ratio": None if first_ms is None else round(first_ms / steady, 2)}
    serve["load"] = {"target_p95_ms": 1500.0, "max_callers": 4, "levels": [
        {"callers": n, "calls": n, "voice_to_voice": {"n": n, "p50_ms": 700.0 + 100 * n, "p95_ms": 900.0 + 200 * n},
         "no_reply": 0, "calls_with_dropped_audio": 0, "passes": n <= 4} for n in (1, 2, 4, 6, 8)]}
    out = results(jittered(serve_s, n, 1))
    out["profiles"]["light"]["systems"] = {"soundloop": serve, "soundloop-process": process, "naive": naive}
    return out


# ------------------------------------------------------------------------------------------------- the report

def test_report_shows_both_modes_their_ratio_and_the_baseline_ratios():
    md = report.markdown(two_modes(0.88, 0.80))
    header = next(line for line in md.splitlines() if line.startswith("| metric |"))
    assert header == ("| metric | soundloop (Serve) | soundloop (processes) | Serve / processes | naive "
                      "| ratio vs naive |")
    row = next(line for line in md.splitlines() if line.startswith(f"| {TURN_LATENCY} |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    serve_p50, process_p50 = (float(c.split(" / ")[0]) for c in cells[1:3])
    assert float(cells[3]) == pytest.approx(serve_p50 / process_p50, abs=0.01)
    naive_p50 = float(cells[4].split(" / ")[0])
    assert float(cells[5]) == pytest.approx(serve_p50 / naive_p50, abs=0.01)  # the baselines face Serve


def test_report_shows_the_turn_model_arms_and_their_ratio():
    r = two_modes(0.88, 0.80)
    systems = r["profiles"]["light"]["systems"]
    for model, seconds in (("rules", 0.9), ("learned", 0.6)):
        arm = system_of(results(jittered(seconds, 20, 7)))
        arm.update(mode="process", turn_model=model)
        systems[f"soundloop-process-{model}"] = arm
    md = report.markdown(r)
    header = next(line for line in md.splitlines() if line.startswith("| metric |"))
    assert ("| soundloop (processes, learned turn model) | learned / rules "
            "| soundloop (processes, rules turn model) |") in header
    row = next(line for line in md.splitlines() if line.startswith(f"| {TURN_LATENCY} |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    learned, ratio, rules = cells[4], cells[5], cells[6]
    assert float(ratio) == pytest.approx(float(learned.split(" / ")[0]) / float(rules.split(" / ")[0]), abs=0.01)


def test_with_rules_as_the_servers_default_the_learned_arm_is_compared_with_the_default_run():
    r = two_modes(0.88, 0.80)
    systems = r["profiles"]["light"]["systems"]
    systems["soundloop-process"]["default_turn_model"] = "rules"
    arm = system_of(results(jittered(0.6, 20, 7)))
    arm.update(mode="process", turn_model="learned")
    systems["soundloop-process-learned"] = arm
    header = next(line for line in report.markdown(r).splitlines() if line.startswith("| metric |"))
    assert "| soundloop (processes, learned turn model) | learned / rules |" in header


def test_report_judges_serve_against_the_ten_percent_goal():
    near = report.markdown(two_modes(0.84, 0.80))
    assert "Serve vs processes, voice-to-voice p50" in near and "**met**" in near
    far = report.serve_vs_process(two_modes(1.00, 0.80)["profiles"]["light"]["systems"])
    assert far["ratio"] == pytest.approx(1.25, abs=0.05) and not far["meets_goal"]
    faster = report.serve_vs_process(two_modes(0.70, 0.80)["profiles"]["light"]["systems"])
    assert faster["meets_goal"]  # the goal bounds how much slower Serve may be


def test_report_shows_the_first_call_and_its_ratio_to_the_median():
    r = two_modes(0.80, 0.80, first_ms=1200.0)
    md = report.markdown(r)
    steady = system_of(r)["first_call"]["steady_state_p50_ms"]
    assert f"1200 ({1200 / steady:.2f}x median)" in md
    assert "soundloop (Serve), first call after start (turn_taking-000)" in md
    assert "**not met**" in md  # 1.5x against a goal of 1.2x
    assert "no reply" in report.markdown(two_modes(0.80, 0.80, first_ms=None))


def test_headline_has_first_call_load_and_serve_rows_per_mode():
    table = report.headline(two_modes(0.84, 0.80))
    lines = table.splitlines()
    assert lines[0] == "| metric | profile | soundloop (Serve) | soundloop (processes) | naive |"
    first = next(line for line in lines if line.startswith(f"| {report.FIRST_CALL_LABEL} |"))
    assert "x median)" in first.split("|")[3] and "x median)" in first.split("|")[4]
    load_row = next(line for line in lines if line.startswith(f"| {report.LOAD_LABEL} |"))
    assert [c.strip() for c in load_row.strip("|").split("|")][2:] == ["4", "n/a", "n/a"]
    serve_row = next(line for line in lines if line.startswith(f"| {report.SERVE_LABEL} |"))
    assert serve_row.split("|")[3].strip().startswith("1.0")


def test_the_load_section_names_the_mode_it_ran_against():
    md = report.markdown(two_modes(0.84, 0.80))
    assert "### Load on soundloop (Serve): concurrent callers" in md
    assert "Largest N that meets it: **4**." in md
    assert "Load on soundloop (processes)" not in md


def test_results_from_before_the_modes_still_render():
    old = results(jittered(0.8, 20, 1))
    old["profiles"]["light"]["load"] = {"target_p95_ms": 1500.0, "max_callers": 2, "levels": []}
    md = report.markdown(old)
    header = next(line for line in md.splitlines() if line.startswith("| metric |"))
    assert header == "| metric | soundloop |"  # one soundloop, process mode, and no baseline here
    assert "Serve vs processes" not in md and "### Load on soundloop: concurrent callers" in md
    assert f"| {report.LOAD_LABEL} | light | 2 |" in report.headline(old)


def test_rescore_recomputes_the_first_call():
    scenario = Scenario("turn_taking-000", "turn_taking", "respond", np.zeros(0, np.float32), speech_end_s=2.0)
    outcome = Outcome(scenario.id, "soundloop", turns=[ReplyTurn(3.1, 5.0)])
    r = two_modes(0.8, 0.8)
    system_of(r)["first_call"] = {"scenario": scenario.id, "voice_to_voice_ms": 0.0, "outcome": outcome.as_json()}
    rescored = scoring.rescore(copy.deepcopy(r))
    assert system_of(rescored)["first_call"]["voice_to_voice_ms"] == 1100.0
    assert system_of(rescored)["first_call"]["ratio"] == pytest.approx(
        1100.0 / system_of(rescored)["scores"]["categories"]["turn_taking"]["latency"]["p50_ms"], abs=0.01)


# -------------------------------------------------------------------------------------------- the first call

def test_first_call_has_no_reply_window_and_skips_a_takeover():
    s = Scenario("t", "turn_taking", "respond", np.zeros(0, np.float32), speech_end_s=2.0)
    slow = first_call(s, Outcome("t", "x", turns=[ReplyTurn(9.0, 11.0)]), 800.0)
    assert slow["voice_to_voice_ms"] == 7000.0 and slow["ratio"] == 8.75  # 7 s: past the 5 s window, still shown
    early = first_call(s, Outcome("t", "x", turns=[ReplyTurn(1.5, 1.9), ReplyTurn(2.9, 4.0)]), 900.0)
    assert early["voice_to_voice_ms"] == 900.0 and early["ratio"] == 1.0
    silent = first_call(s, Outcome("t", "x", error="UNAVAILABLE: down"), 800.0)
    assert silent["voice_to_voice_ms"] is None and silent["ratio"] is None and silent["error"]


# ----------------------------------------------------------------------------------------------- the compare

def test_compare_picks_the_mode_it_compares():
    base, head = two_modes(0.8, 0.8), two_modes(1.3, 0.8)
    assert judged.system_key(base, "light", "serve") == "soundloop"
    assert judged.system_key(base, "light", "process") == "soundloop-process"
    assert judged.system_key(results([0.8]), "light", "process") == "soundloop"  # from before: processes
    with pytest.raises(judged.CompareError):
        judged.system_key(results([0.8]), "light", "serve")
    serve = {r.label: r for r in judged.compare_profile([base], [head], "light", "serve")}
    process = {r.label: r for r in judged.compare_profile([base], [head], "light", "process")}
    assert serve[TURN_LATENCY].worse and not process[TURN_LATENCY].worse


def test_compare_a_base_from_before_the_modes_with_a_head_in_process_mode():
    base = results(jittered(0.8, 20, 1))  # `soundloop`, no mode
    head = two_modes(0.8, 1.3)
    rows = {r.label: r for r in judged.compare_profile([base], [head], "light", "process")}
    assert rows[TURN_LATENCY].worse
    assert judged.lower_is_better(report.FIRST_CALL_LABEL, "value")


def test_compare_knows_which_trees_take_the_mode_flag(tmp_path):
    assert compare.has_modes(compare.working_tree(compare.ROOT))
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "run.py").write_text('parser.add_argument("--systems")\n')
    assert not compare.has_modes(compare.Tree(tmp_path, "abc1234", "an older tree"))


# ---------------------------------------------------------------------------------------------- the load ramp

def fake_levels(p95_ms: dict[int, float], dropped: dict[int, int] | None = None):
    ran = []

    def run_level(address: str, callers: int, turns: int) -> dict:
        ran.append(callers)
        return {"callers": callers, "calls": callers * turns, "no_reply": 0,
                "calls_with_dropped_audio": (dropped or {}).get(callers, 0),
                "voice_to_voice": {"n": callers, "p50_ms": p95_ms[callers] / 2, "p95_ms": p95_ms[callers]}}
    return ran, run_level


def test_the_ramp_runs_one_level_past_the_first_failure():
    ran, fake = fake_levels({1: 800, 2: 900, 4: 1600, 6: 1400, 8: 2500})
    out = load.capacity("x", (1, 2, 4, 6, 8), 1, log=lambda _: None, run=fake)
    assert ran == [1, 2, 4, 6]
    assert out["max_callers"] == 2  # 6 passing after 4 failed does not count
    assert [lv["passes"] for lv in out["levels"]] == [True, True, False, True]


def test_dropped_audio_fails_a_level_too():
    ran, fake = fake_levels({1: 800, 2: 900, 3: 900, 4: 900}, dropped={2: 1})
    assert load.capacity("x", (1, 2, 3, 4), 1, log=lambda _: None, run=fake)["max_callers"] == 1
    assert ran == [1, 2, 3]


def test_a_failure_at_the_last_level_adds_one_more():
    ran, fake = fake_levels({1: 800, 2: 900, 4: 1600, 6: 2000})
    out = load.capacity("x", (1, 2, 4), 1, log=lambda _: None, run=fake)
    assert ran == [1, 2, 4, 6] and out["max_callers"] == 2


def test_a_ramp_that_never_fails_runs_every_level():
    ran, fake = fake_levels({1: 800, 2: 900, 4: 1000})
    assert load.capacity("x", (1, 2, 4), 1, log=lambda _: None, run=fake)["max_callers"] == 4
    assert ran == [1, 2, 4]


# ------------------------------------------------------------------------------------------- bench.run plumbing

@pytest.mark.parametrize("argv, message", [
    (["--soundloop-modes", "serve,docker"], "unknown modes"),
    (["--soundloop-modes", "process", "--load-modes", "serve"], "only modes that run"),
    (["--turn-models", "rules,neural"], "a subset of rules,learned"),
    (["--soundloop-modes", "serve", "--turn-models", "learned"], "with process mode"),
])
def test_run_refuses_modes_it_cannot_run(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit):
        run.main([*argv, "--out", str(tmp_path)])
    assert message in capsys.readouterr().err


def test_a_child_process_returns_its_result_or_its_error():
    assert child_process.in_child(operator.add, 2, 3) == 5
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        child_process.in_child(operator.truediv, 1, 0)


# ------------------------------------------------------------------------------------------ processes and nice

def test_processes_are_named_as_ray_and_python_title_them():
    assert process_stats.process_name(["ray::ServeReplica:soundloop:Encoder"]) == "Encoder"
    assert process_stats.process_name(["ray::ServeController"]) == "ServeController"
    assert process_stats.process_name(["/venv/bin/python", "-u", "/x/ray/dashboard/agent.py", "--a"]) == "agent"
    assert process_stats.process_name(["/venv/bin/python3", "-m", "services.llm.server"]) == "services.llm.server"
    assert process_stats.process_name(["/usr/bin/redis-server 127.0.0.1:6379"]) == "redis-server"
    assert process_stats.process_name(["/opt/ray/core/src/ray/gcs/gcs_server", "--x"]) == "gcs_server"


def test_descendants_and_renice_on_a_child():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        found = process_stats.descendants(os.getpid())
        assert found.get("python", found.get("python3")) == child.pid or child.pid in found.values()
        assert child.pid not in process_stats.descendants(os.getpid(), skip=(os.path.basename(sys.executable),))
        target = min(19, process_stats.nice_of(child.pid) + 4)
        process_stats.renice_threads(child.pid, target)
        assert process_stats.nice_of(child.pid) == target
        assert not process_stats.is_serve_replica(child.pid)
    finally:
        child.kill()
        child.wait()


def _matched_niceness(offset: int) -> tuple[int, int]:
    own = process_stats.nice_of(os.getpid())
    return own, process_stats.match_niceness(min(19, own + offset))


def test_a_client_matches_the_replicas_niceness_but_never_lowers_its_own():
    assert process_stats.serve_replica_nice([os.getpid()]) is None  # not a Serve replica
    assert process_stats.match_niceness(None) == process_stats.nice_of(os.getpid())
    # in a child, as raising niceness cannot be undone without privilege
    before, after = child_process.in_child(_matched_niceness, 3)
    assert after == min(19, before + 3)
    before, after = child_process.in_child(_matched_niceness, -1)
    assert after == before
