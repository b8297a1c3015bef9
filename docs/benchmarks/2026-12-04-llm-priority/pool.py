"""Pools the turn-taking calls of several `bench.run` outputs per arm and prints the client-side
waterfall (ms after the caller's speech end, p50 / p95), so interleaved runs of one arm count as one
sample of 20 x runs calls.

    python docs/benchmarks/2026-12-04-llm-priority/pool.py \
        nice0=default-process-nice0-b,default-process-nice0-c nice5=default-process-nice5-a,...

Folder names are relative to this file's folder. Only answers after the speech end count (a reply that
took over the call before it is a turn-taking failure, scored in each report).
"""
from __future__ import annotations

import json
import pathlib
import sys

HERE = pathlib.Path(__file__).parent
MILESTONES = ("respond_decision", "first_reply_text", "first_reply_audio")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    at = (len(ordered) - 1) * q
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def arm(folders: list[str]) -> dict[str, list[float]]:
    columns: dict[str, list[float]] = {m: [] for m in (*MILESTONES, "text_to_audio")}
    for folder in folders:
        results = json.loads((HERE / folder / "results.json").read_text())
        speech_end = {s["id"]: s["speech_end_s"] for s in results["scenarios"]}
        for profile in results["profiles"].values():
            for system in profile["systems"].values():
                for outcome in system["outcomes"]:
                    end, reached = speech_end[outcome["id"]], outcome["milestones"]
                    for m in MILESTONES:
                        if reached.get(m, -1) >= end:
                            columns[m].append((reached[m] - end) * 1000)
                    text, audio = reached.get("first_reply_text", -1), reached.get("first_reply_audio")
                    if text >= end and audio is not None:
                        columns["text_to_audio"].append((audio - text) * 1000)
    return columns


def main(specs: list[str]) -> None:
    print("| arm | calls | " + " | ".join(c.replace("_", " ") for c in (*MILESTONES, "text_to_audio")) + " |")
    print("|---|---|" + "---|" * (len(MILESTONES) + 1))
    for spec in specs:
        name, folders = spec.split("=", 1)
        columns = arm(folders.split(","))
        cells = [f"{percentile(v, 0.5):.0f} / {percentile(v, 0.95):.0f}" for v in columns.values()]
        print(f"| {name} | {len(columns['first_reply_audio'])} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
