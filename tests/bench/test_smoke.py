"""The benchmark's smoke mode end to end: the real stack on the light profile (process mode:
Ray Serve's start-up would double the time), the naive baseline, one scenario per category
and one load level, written to one folder."""
from __future__ import annotations

import json

import pytest

from bench import run

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    run.main(["--smoke", "--out", str(out)])
    return out, json.loads((out / "results.json").read_text())


def test_everything_lands_in_one_folder(results):
    out, data = results
    for name in ("results.json", "report.md", "latency_cdf.png", "waterfall.png", "load.png"):
        assert (out / name).stat().st_size > 0, name
    report = (out / "report.md").read_text()
    assert "| turn-taking: success rate |" in report and "ratio vs naive" in report
    assert data["meta"]["per_category"] == {c: 1 for c in ("pause", "turn_taking", "backchannel", "interruption",
                                                           "sound", "instruction", "offline",
                                                           "short_interruption")}


def test_soundloop_and_the_naive_baseline_differ_where_the_design_says(results):
    _, data = results
    systems = data["profiles"]["light"]["systems"]
    ours, naive = systems["soundloop-process"]["scores"]["categories"], systems["naive"]["scores"]["categories"]
    assert ours["turn_taking"]["success"]["rate"] == 1.0
    assert ours["interruption"]["barge_in_success"]["rate"] == 1.0
    assert naive["interruption"]["barge_in_success"]["rate"] == 0.0  # it plays every reply to the end
    assert ours["sound"]["accuracy"]["rate"] == 1.0  # the alarm clock gets a reaction
    assert naive["sound"]["accuracy"]["rate"] == 0.0
    assert ours["offline"]["transcribe_wer"]["wer"] < 0.2


def test_resources_and_load_are_measured(results):
    _, data = results
    profile = data["profiles"]["light"]
    ours = profile["systems"]["soundloop-process"]
    assert ours["mode"] == "process" and "soundloop" not in profile["systems"]
    resources = ours["resources"]
    assert set(resources["peak_rss_mb"]) == {"encoder", "llm", "decider", "tts", "gateway"}
    assert resources["cpu_s_per_audio_s"] > 0
    level = ours["load"]["levels"][0]
    assert level["callers"] == 1 and level["no_reply"] == 0 and level["calls_with_dropped_audio"] == 0


def test_the_fresh_servers_first_call_is_measured_apart(results):
    _, data = results
    ours = data["profiles"]["light"]["systems"]["soundloop-process"]
    first = ours["first_call"]
    assert first["scenario"].startswith("turn")
    assert first["voice_to_voice_ms"] > 0 and first["ratio"] > 0
    assert first["scenario"] in {o["id"] for o in ours["outcomes"]}  # also measured again, warm, as a scenario
