"""Summarises the gateway's PROBE lines (speculation-probe.patch) of one mode's run.

    python docs/benchmarks/2026-12-05-serve-vs-process/probe-speculation/summary.py probe-process.txt probe-serve.txt

The .txt files are the PROBE lines of the run's logs: process mode's logs/light/gateway.log, and for
Serve the Gateway replica's worker .err file under /tmp/ray/session_latest/logs.
"""
from __future__ import annotations

import pathlib
import re
import statistics
import sys

HERE = pathlib.Path(__file__).parent


def main(files: list[str]) -> None:
    for name in files:
        lines = (HERE / name).read_text().splitlines()
        found = (re.match(r"PROBE speculative first chunk ([\d.]+) ms", line) for line in lines)
        first = [float(m.group(1)) for m in found if m]
        adopted = [line for line in lines if "adopted" in line]
        not_yet = sum("not yet" in line for line in adopted)
        adopted_ms = statistics.median(float(re.search(r"adopted ([\d.]+)", a).group(1)) for a in adopted)
        print(f"{name}: speculative generation's first chunk at the gateway, ms after its request: "
              f"p50 {statistics.median(first):.0f} (n {len(first)}); adopted by the reply "
              f"{adopted_ms:.0f} ms after "
              f"its request (p50), before its first chunk in {not_yet} of {len(adopted)}")


if __name__ == "__main__":
    main(sys.argv[1:])
