"""The orchestration-cost benchmark's arithmetic: which process counts as what, and the per-caller shares."""
from __future__ import annotations

import pytest

from bench import orchestration_cost as oc


@pytest.mark.parametrize(("mode", "name", "role"), [
    ("process", "gateway", "gateway"),
    ("process", "redis-server", "redis"),
    ("process", "encoder", "stage"),
    ("serve", "Gateway#2", "gateway"),
    ("serve", "Llm", "stage"),
    ("serve", "Tts#3", "stage"),
    ("serve", "raylet", "serve"),
    ("serve", "ServeController", "serve"),
    ("process", "raylet", "other"),  # not a soundloop process in process mode: counted nowhere
])
def test_each_process_has_a_role(mode, name, role):
    assert oc.role(mode, name) == role


def test_the_share_per_caller_is_above_the_idle_rate_in_percent_of_a_core():
    # gateway: 0.1 CPU-s per s idle, 0.5 busy -> 0.4 of a core for 2 callers -> 20 % each
    pct = oc.per_caller_pct(idle={"gateway": 1.0}, busy={"gateway": 10.0}, idle_s=10.0, busy_s=20.0, callers=2)
    assert pct == {"gateway": 20.0}
    # a process that was busier idle than busy (noise) shows a negative share, not a clipped one
    assert oc.per_caller_pct({"raylet": 2.0}, {"raylet": 1.0}, 10.0, 10.0, 1) == {"raylet": -10.0}


def test_orchestration_is_the_gateway_redis_and_serve_machinery_not_the_stages():
    pct = {"Gateway": 4.0, "Gateway#2": 0.5, "redis-server": 0.5, "raylet": 0.25, "Encoder": 5.0, "Llm": 9.0}
    totals = oc.totals("serve", pct)
    assert totals["gateway"] == 4.5 and totals["redis"] == 0.5 and totals["serve"] == 0.25
    assert totals["stage"] == 14.0
    assert totals["orchestration"] == 5.25


def test_serve_request_path_estimate_compares_the_same_stage_in_both_modes():
    serve = {"mode": "serve", "per_caller_pct_of_core": {"Encoder": 3.0, "Encoder#2": 1.0, "Llm": 8.0,
                                                          "Gateway": 5.0}}
    process = {"mode": "process", "per_caller_pct_of_core": {"encoder": 3.5, "llm": 9.0, "gateway": 4.0}}
    assert oc.serve_handle_estimate(serve, process) == {"encoder": 0.5, "llm": -1.0}


def test_the_report_says_whether_the_goal_is_met():
    def result(mode, gateway):
        pct = {"gateway" if mode == "process" else "Gateway": gateway, "redis-server": 0.5}
        return {"mode": mode, "callers": 2, "calls": 10, "errors": [], "voice_to_voice_ms": {"p50_ms": 700},
                "per_caller_pct_of_core": pct, "idle_pct_of_core": {n: 0.1 for n in pct},
                "per_caller_by_role": oc.totals(mode, pct)}
    text = oc.report({"process": result("process", 2.0), "serve": result("serve", 5.0)}, "light", "questions")
    assert "process: orchestration 2.50 % of a core per caller (goal 3 %): met" in text
    assert "serve: orchestration 5.50 % of a core per caller (goal 3 %): **not met**" in text
