"""The proactive-sound tables of one or more bench.run results: per split of the sound bank, per
listening setting and per domain, for every system that ran.

    python -m bench.sound_report bench-out/<run>/results.json [more results.json ...]
"""
from __future__ import annotations

import argparse
import json
import pathlib

from bench.scenarios import SOUND_SETTINGS
from bench.sound_bank import DOMAINS, SPLITS


def _cell(group: dict | None, key: str) -> str:
    r = (group or {}).get(key) or {}
    if not r.get("n"):
        return "-"
    return f"{r['rate']:.2f} ({round(r['rate'] * r['n'])}/{r['n']})"


def _latency(summary: dict | None) -> str:
    return f"{summary['p50_ms']:.0f} / {summary['p95_ms']:.0f} (n={summary['n']})" if summary and summary.get("n") \
        else "-"


def tables(results: dict, label: str) -> list[str]:
    lines = []
    for profile, data in results["profiles"].items():
        for system, result in data["systems"].items():
            sound = result["scores"]["categories"].get("sound")
            if not sound or not sound.get("by_split"):
                continue
            head = f"{label} {profile}, {system}"
            lines += [f"#### {head}", "",
                      f"All {sound['accuracy']['n']} calls: accuracy {_cell(sound, 'accuracy')}, respond recall "
                      f"{_cell(sound, 'respond_recall')}, ignored correctly {_cell(sound, 'ignore_correct')}, onset "
                      f"-> reaction audio p50 / p95 ms {_latency(sound.get('onset_to_reaction_audio'))}.", "",
                      "| split / setting | respond recall | ignored correctly |", "|---|---|---|"]
            for split in SPLITS:
                group = sound["by_split"].get(split)
                lines.append(f"| **{split}** | {_cell(group, 'respond_recall')} | {_cell(group, 'ignore_correct')} |")
                for setting in SOUND_SETTINGS:
                    g = sound["by_split_setting"].get(f"{split}/{setting}")
                    lines.append(f"| {split} / {setting} | {_cell(g, 'respond_recall')} | "
                                 f"{_cell(g, 'ignore_correct')} |")
                lines.append(f"| {split}: onset -> reaction audio p50 / p95 ms | "
                             f"{_latency((group or {}).get('onset_to_reaction_audio'))} | |")
            lines += ["", "| domain (both splits) | respond recall | ignored correctly |", "|---|---|---|"]
            for domain in DOMAINS:
                g = sound["by_domain"].get(domain)
                lines.append(f"| {domain} | {_cell(g, 'respond_recall')} | {_cell(g, 'ignore_correct')} |")
            lines.append("")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", nargs="+", type=pathlib.Path)
    args = parser.parse_args(argv)
    for path in args.results:
        results = json.loads(path.read_text())
        print("\n".join(tables(results, f"{results['meta'].get('commit', '')[:7]}")))


if __name__ == "__main__":
    main()
