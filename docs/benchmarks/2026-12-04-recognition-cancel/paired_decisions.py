"""Speech end -> respond decision per turn-taking call, two runs of the same scenarios side by side:

    python docs/benchmarks/2026-12-04-recognition-cancel/paired_decisions.py BEFORE_DIR AFTER_DIR
"""
from __future__ import annotations

import json
import pathlib
import statistics
import sys


def decisions_ms(run: pathlib.Path) -> dict[str, float]:
    results = json.loads((run / "results.json").read_text())
    ends = {s["id"]: s["speech_end_s"] for s in results["scenarios"]}
    (profile,) = results["profiles"].values()
    outcomes = profile["systems"]["soundloop-process"]["outcomes"]
    return {o["id"]: (o["milestones"]["respond_decision"] - ends[o["id"]]) * 1000 for o in outcomes
            if o["id"].startswith("turn") and "respond_decision" in o["milestones"]}


def main() -> None:
    before, after = (decisions_ms(pathlib.Path(arg)) for arg in sys.argv[1:3])
    differences = []
    for scenario in sorted(before.keys() & after.keys()):
        differences.append(after[scenario] - before[scenario])
        print(f"{scenario}  {before[scenario]:7.0f}  {after[scenario]:7.0f}  {differences[-1]:+6.0f}")
    print(f"median difference {statistics.median(differences):+.0f} ms, mean {statistics.mean(differences):+.0f} ms")


if __name__ == "__main__":
    main()
