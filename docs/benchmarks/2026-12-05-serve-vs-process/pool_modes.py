"""Pools the turn-taking calls of several `bench.run --soundloop-modes serve,process` outputs per mode and
prints the client-side waterfall (ms after the caller's speech end, p50 / p95) of each mode, then the
Serve / processes ratio of each run and of the pool, so runs made in both orders count as one sample.

    python docs/benchmarks/2026-12-05-serve-vs-process/pool_modes.py asis=light-asis-a,light-asis-b \
        nice0=light-nice0-a,light-nice0-b

Folder names are relative to this file's folder. Only answers after the speech end count (a reply that
took over the call before it is a turn-taking failure, scored in each report).
"""
from __future__ import annotations

import json
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).parent
MILESTONES = ("respond_decision", "first_reply_text", "first_reply_audio")
MODES = {"soundloop": "Serve", "soundloop-process": "processes"}


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q * 100))  # linear between ranks, as bench.scoring


def columns(folder: str) -> dict[str, dict[str, list[float]]]:
    """{mode: {milestone: ms after speech end of every call that reached it after the end}}."""
    results = json.loads((HERE / folder / "results.json").read_text())
    speech_end = {s["id"]: s["speech_end_s"] for s in results["scenarios"]}
    out: dict[str, dict[str, list[float]]] = {}
    for profile in results["profiles"].values():
        for system, data in profile["systems"].items():
            if system not in MODES:
                continue
            got = out.setdefault(MODES[system], {m: [] for m in MILESTONES})
            for outcome in data["outcomes"]:
                end, reached = speech_end[outcome["id"]], outcome["milestones"]
                for m in MILESTONES:
                    if reached.get(m, -1) >= end:
                        got[m].append((reached[m] - end) * 1000)
    return out


def main(specs: list[str]) -> None:
    print("| arm | mode | calls | " + " | ".join(m.replace("_", " ") for m in MILESTONES) + " |")
    print("|---|---|---|" + "---|" * len(MILESTONES))
    ratios = []
    for spec in specs:
        name, folders = spec.split("=", 1)
        pooled: dict[str, dict[str, list[float]]] = {}
        for folder in folders.split(","):
            run = columns(folder)
            p50 = {mode: percentile(run[mode]["first_reply_audio"], 0.5) for mode in run}
            ratios.append(f"{folder}: Serve {p50['Serve']:.0f} / processes {p50['processes']:.0f} ms = "
                          f"{p50['Serve'] / p50['processes']:.2f}")
            for mode, cols in run.items():
                for m, values in cols.items():
                    pooled.setdefault(mode, {k: [] for k in MILESTONES})[m] += values
        for mode, cols in pooled.items():
            cells = [f"{percentile(v, 0.5):.0f} / {percentile(v, 0.95):.0f}" for v in cols.values()]
            print(f"| {name} | {mode} | {len(cols['first_reply_audio'])} | " + " | ".join(cells) + " |")
        audio = {mode: percentile(cols["first_reply_audio"], 0.5) for mode, cols in pooled.items()}
        ratio = audio["Serve"] / audio["processes"]
        ratios.append(f"{name} pooled: Serve / processes first reply audio p50 = {ratio:.2f}")
    print()
    print("\n".join(ratios))


if __name__ == "__main__":
    main(sys.argv[1:])
