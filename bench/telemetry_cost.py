"""What observing costs: soundloop-process with telemetry off and on (bench.run --telemetry-arm),
from one or more results.json, one row per run and arm, and the pooled change.

    python -m bench.run --quick --profile light --systems soundloop --soundloop-modes process \\
        --no-load --telemetry-arm --out bench-out/telemetry-1        # repeat for run-to-run noise
    python -m bench.telemetry_cost bench-out/telemetry-*/results.json
"""
from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np

OFF, ON = "soundloop-process", "soundloop-process-telemetry"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", nargs="+", type=pathlib.Path)
    args = parser.parse_args(argv)
    print("| run | profile | arm | CPU s per caller audio s | voice-to-voice p50 ms (n) | spans received |")
    print("|---|---|---|---|---|---|")
    pooled: dict[str, list] = {OFF: [], ON: []}
    for path in args.results:
        data = json.loads(path.read_text())
        for profile, entry in data["profiles"].items():
            for arm in (OFF, ON):
                system = entry["systems"].get(arm)
                if system is None:
                    continue
                cpu = system["resources"]["cpu_s_per_audio_s"]
                voice = system["scores"]["categories"]["turn_taking"]["latency"]
                pooled[arm].append((cpu, system["turn_latencies_ms"]))
                spans = system.get("telemetry", {}).get("spans_received", "-")
                print(f"| {path.parent.name} | {profile} | {'on' if arm == ON else 'off'} | {cpu:.3f} | "
                      f"{voice.get('p50_ms', float('nan')):.0f} ({voice.get('n', 0)}) | {spans} |")
    if pooled[OFF] and pooled[ON]:
        cpu_off, cpu_on = (np.mean([c for c, _ in pooled[arm]]) for arm in (OFF, ON))
        v_off, v_on = (np.median([ms for _, lat in pooled[arm] for ms in lat] or [np.nan]) for arm in (OFF, ON))
        print(f"\nPooled over runs: CPU per caller audio second off {cpu_off:.3f}, on {cpu_on:.3f} "
              f"({(cpu_on / cpu_off - 1) * 100:+.1f} %); voice-to-voice p50 (all answered turns) off {v_off:.0f} ms, "
              f"on {v_on:.0f} ms")


if __name__ == "__main__":
    main()
