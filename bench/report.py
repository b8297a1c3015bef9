"""results.json -> report.md and plots (latency CDFs, a typical turn's waterfall,
latency against concurrent callers). `python -m bench.report <folder>` redraws
them from a saved results.json; `--rescore` scores its raw outcomes again first.
"""
from __future__ import annotations

import argparse
import json
import pathlib

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import numpy as np

BASELINES = ("naive", "pipecat")
# (label, path into a system's scores, kind): kind "rate" shows a fraction, "ms" a summary,
# "wer" a WER; `lower` marks metrics where smaller is better (for the reader, not the ratio).
ROWS = (
    ("pause: takeover rate (lower is better)", ("pause", "takeover"), "rate"),
    ("turn-taking: success rate", ("turn_taking", "success"), "rate"),
    ("turn-taking: speech end -> first reply audio", ("turn_taking", "latency"), "ms"),
    ("turn-taking latency, clean 16 kHz callers", ("turn_taking", "latency_clean_16k"), "ms"),
    ("turn-taking latency, noise at 20/10/5 dB SNR", ("turn_taking", "latency_noisy"), "ms"),
    ("turn-taking latency, 8 kHz G.711 callers", ("turn_taking", "latency_8k_mulaw"), "ms"),
    ("turn-taking latency, real recordings", ("turn_taking", "latency_real_speech"), "ms"),
    ("pause: answered once the caller finished", ("pause", "answered_after_pause"), "rate"),
    ("backchannel: false-stop rate (lower is better)", ("backchannel", "false_stop"), "rate"),
    ("backchannel: answered the 'mm-hm' as a turn", ("backchannel", "new_reply_to_backchannel"), "rate"),
    ("interruption: barge-in success", ("interruption", "barge_in_success"), "rate"),
    ("interruption: onset -> last reply audio", ("interruption", "stop_latency"), "ms"),
    ("interruption: answered the new content", ("interruption", "answered_new_content"), "rate"),
    ("interruption: its end -> answer audio", ("interruption", "new_answer_latency"), "ms"),
    ("proactive sound: decision accuracy", ("sound", "accuracy"), "rate"),
    ("proactive sound: respond recall", ("sound", "respond_recall"), "rate"),
    ("proactive sound: ignored correctly", ("sound", "ignore_correct"), "rate"),
    ("proactive sound: onset -> reaction audio", ("sound", "onset_to_reaction_audio"), "ms"),
    ("instructions: compliance", ("instruction", "compliance"), "rate"),
    ("  one sentence", ("instruction", "one_sentence"), "rate"),
    ("  only transcribe", ("instruction", "transcribe_only"), "rate"),
    ("  silent until asked", ("instruction", "silent_until_asked"), "rate"),
    ("ASR WER, real recordings", ("asr", "wer_real"), "wer"),
    ("ASR WER, synthetic voices", ("asr", "wer_synthetic"), "wer"),
    ("ASR WER, 8 kHz G.711", ("asr", "wer_8k_mulaw"), "wer"),
    ("offline: transcribe a file, WER", ("offline", "transcribe_wer"), "wer"),
    ("offline: answer about a sound clip", ("offline", "answer_about_sound"), "rate"),
)


MEASUREMENT_NOTES = (
    "Times are on the caller's clock. soundloop: when reply audio *arrived* at the client; the gateway paces "
    "audio at real time with a 200 ms lead, so a client that plays all it received hears up to 200 ms more "
    "after a stop than 'onset -> last reply audio' shows.",
    "naive: simulated on the caller's timeline (each stage's compute measured in wall-clock time, silences "
    "counted in audio time); one process, so its peak RSS includes the benchmark's own.",
    "pipecat: its output transport plays audio at real time and times are when a frame starts playing; a "
    "fresh pipeline per call (models load per call, as in a bot-per-call deployment, and are not warmed); all "
    "calls run in one runner process, so its peak RSS accumulates over the calls and is not one call's "
    "footprint; CPU includes the per-call model loads; Whisper runs with Pipecat's default beam size (5); "
    "TTS is Piper in both profiles (soundloop's light profile speaks with espeak-ng).",
)


def _get(scores: dict, path: tuple[str, str]) -> dict:
    return scores.get("categories", {}).get(path[0], {}).get(path[1], {}) or {}


def _value(entry: dict, kind: str, which: str = "p50_ms") -> float | None:
    if kind == "rate":
        return entry.get("rate")
    if kind == "wer":
        return entry.get("wer")
    return entry.get(which)


def _cell(entry: dict, kind: str) -> str:
    if not entry or entry.get("n", 0) == 0:
        return "n/a"
    if kind == "rate":
        return f"{entry['rate']:.2f} (n={entry['n']})"
    if kind == "wer":
        return f"{entry['wer']:.3f} ({entry['ref_words']} words)"
    return f"{entry['p50_ms']:.0f} / {entry['p95_ms']:.0f}"


def _ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None or theirs == 0:
        return ""
    return f"{ours / theirs:.2f}"


def markdown(results: dict) -> str:
    meta = results["meta"]
    lines = [f"# soundloop benchmark ({'quick' if meta['quick'] else 'full'} run)", "",
             f"{meta['date']}, commit {meta['commit']}, {meta['machine']}; seed {meta['seed']}; "
             f"{meta['scenarios']} scenarios ({', '.join(f'{k} {v}' for k, v in meta['per_category'].items())}).",
             "", "Latencies are p50 / p95 in ms; rates are fractions of the scenarios where the behaviour applied; "
             "ratio = soundloop / baseline (for latency below 1 is better).", ""]
    for profile, p in results["profiles"].items():
        systems = p["systems"]
        present = [s for s in ("soundloop", *BASELINES) if s in systems]
        lines += [f"## Profile `{profile}`", ""]
        header = "| metric | " + " | ".join(
            f"{s}" + ("" if s == "soundloop" else f" | ratio vs {s}") for s in present) + " |"
        lines += [header, "|" + "---|" * (1 + len(present) + sum(s != "soundloop" for s in present))]
        for label, path, kind in ROWS:
            cells = []
            ours = systems.get("soundloop", {}).get("scores", {})
            for s in present:
                entry = _get(systems[s].get("scores", {}), path)
                cells.append(_cell(entry, kind))
                if s != "soundloop":
                    cells.append(_ratio(_value(_get(ours, path), kind), _value(entry, kind)) if kind == "ms" else "")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        for key, label in (("cpu_s_per_audio_s", "CPU s per caller audio s"),
                           ("peak_rss_mb_total", "peak RSS, all processes (MB)")):
            cells = []
            for s in present:
                value = systems[s].get("resources", {}).get(key)
                cells.append("n/a" if value is None else f"{value}")
                if s != "soundloop":
                    ours = systems.get("soundloop", {}).get("resources", {}).get(key)
                    cells.append(_ratio(ours, value))
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
        for s in present:
            rss = systems[s].get("resources", {}).get("peak_rss_mb")
            if rss:
                lines.append(f"- {s} peak RSS per process (MB): " + ", ".join(f"{k} {v}" for k, v in rss.items()))
            notes = systems[s].get("notes")
            if notes:
                lines.append(f"- {s}: {notes}")
            failed = systems[s].get("scores", {}).get("failed")
            if failed:
                lines.append(f"- {s}: {len(failed)} scenarios failed outright: {', '.join(failed[:10])}")
        for s, why in p.get("skipped", {}).items():
            lines.append(f"- {s} not run: {why}")
        lines += ["", "### Where the time of a spoken reply goes (ms after the caller's speech end, p50 / p95)", "",
                  "| milestone | " + " | ".join(present) + " |", "|---|" + "---|" * len(present)]
        for milestone in ("final_transcript", "respond_decision", "first_reply_text", "first_reply_audio"):
            row = [_cell(systems[s].get("scores", {}).get("categories", {}).get("stages", {})
                         .get("from_speech_end", {}).get(milestone, {}), "ms") for s in present]
            lines.append(f"| {milestone.replace('_', ' ')} | " + " | ".join(row) + " |")
        lines += ["", "System-reported stage times (ms, p50 / p95):", ""]
        for s in present:
            stages = systems[s].get("scores", {}).get("categories", {}).get("stages", {}).get("system_reported", {})
            if stages:
                lines.append(f"- {s}: " + "; ".join(f"{k} {_cell(v, 'ms')}" for k, v in stages.items()))
        load = p.get("load")
        if load:
            lines += ["", f"### Load: concurrent callers (target p95 voice-to-voice <= {load['target_p95_ms']:.0f} ms, "
                      "no dropped audio)", "",
                      f"Largest N that meets it: **{load['max_callers']}**.", "",
                      "| callers | calls | p50 ms | p95 ms | no reply | calls with dropped audio | meets target |",
                      "|---|---|---|---|---|---|---|"]
            for lv in load["levels"]:
                v = lv["voice_to_voice"]
                lines.append(f"| {lv['callers']} | {lv['calls']} | {v.get('p50_ms', 'n/a')} | {v.get('p95_ms', 'n/a')} "
                             f"| {lv['no_reply']} | {lv['calls_with_dropped_audio']} "
                             f"| {'yes' if lv['passes'] else 'no'} |")
        lines.append("")
    lines += ["## Measurement notes", "", *[f"- {note}" for note in MEASUREMENT_NOTES], "",
              "Plots (full runs): `latency_cdf.png`, `waterfall.png`, `load.png`.", ""]
    return "\n".join(lines)


def plots(results: dict, folder: pathlib.Path) -> None:
    profiles = results["profiles"]
    fig, axes = plt.subplots(1, len(profiles), figsize=(6 * len(profiles), 4), squeeze=False)
    for ax, (profile, p) in zip(axes[0], profiles.items(), strict=False):
        for name, system in p["systems"].items():
            values = system.get("turn_latencies_ms", [])
            if values:
                values = np.sort(values)
                ax.step(values, np.arange(1, len(values) + 1) / len(values), where="post", label=name)
        ax.axvline(800, color="grey", linestyle=":", linewidth=1)
        ax.set(title=f"{profile}: speech end -> first reply audio", xlabel="ms", ylabel="fraction of turns")
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "latency_cdf.png", dpi=110)
    plt.close(fig)

    milestones = ("final_transcript", "respond_decision", "first_reply_text", "first_reply_audio")
    rows = [(profile, name, system) for profile, p in profiles.items() for name, system in p["systems"].items()]
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(rows) + 1.5))
    colours = ("#4c72b0", "#dd8452", "#55a868", "#c44e52")
    labelled: set[str] = set()  # one legend entry per milestone
    for y, (_, _, system) in enumerate(rows):
        stages = system.get("scores", {}).get("categories", {}).get("stages", {}).get("from_speech_end", {})
        previous = 0.0
        for colour, m in zip(colours, milestones, strict=False):
            at = stages.get(m, {}).get("p50_ms")
            if at is None:
                continue
            ax.barh(y, max(0.0, at - previous), left=previous, color=colour,
                    label=None if m in labelled else "until " + m.replace("_", " "))
            labelled.add(m)
            previous = max(previous, at)
    ax.set_yticks(range(len(rows)), [f"{p} / {n}" for p, n, _ in rows])
    ax.set(xlabel="ms after the caller's speech end (median turn)", title="Typical turn: when each milestone arrives")
    if labelled:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "waterfall.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    for profile, p in profiles.items():
        levels = (p.get("load") or {}).get("levels", [])
        n = [lv["callers"] for lv in levels if lv["voice_to_voice"].get("n")]
        for key, style in (("p50_ms", "--"), ("p95_ms", "-")):
            ax.plot(n, [lv["voice_to_voice"][key] for lv in levels if lv["voice_to_voice"].get("n")], style,
                    marker="o", label=f"{profile} {key[:3]}")
    ax.axhline(1500, color="grey", linestyle=":", linewidth=1)
    ax.set(xlabel="concurrent callers", ylabel="voice-to-voice ms", title="Latency against concurrent callers")
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "load.png", dpi=110)
    plt.close(fig)


HEADLINE = ("pause: takeover rate (lower is better)", "turn-taking: success rate",
            "turn-taking: speech end -> first reply audio", "turn-taking latency, 8 kHz G.711 callers",
            "backchannel: false-stop rate (lower is better)", "interruption: barge-in success",
            "interruption: onset -> last reply audio", "interruption: its end -> answer audio",
            "proactive sound: decision accuracy", "instructions: compliance", "ASR WER, real recordings",
            "ASR WER, synthetic voices")


CPU_LABEL = "CPU s per caller audio s"
LOAD_LABEL = "most concurrent callers with p95 <= 1.5 s"


def headline_metrics(profile: dict, system: str) -> list[tuple[str, str, dict]]:
    """The headline rows of one system in one profile's results, as (label, kind, entry): kind "rate", "ms" or
    "wer" with the entry from its scores (see ROWS), or "value" with {"value": x}. `bench.compare` uses them."""
    rows = {label: (path, kind) for label, path, kind in ROWS}
    ran = profile["systems"].get(system, {})
    out = [(label, rows[label][1], _get(ran.get("scores", {}), rows[label][0])) for label in HEADLINE]
    out.append((CPU_LABEL, "value", {"value": ran.get("resources", {}).get("cpu_s_per_audio_s")}))
    if profile.get("load") and system == "soundloop":  # the load test only runs against soundloop
        out.append((LOAD_LABEL, "value", {"value": profile["load"]["max_callers"]}))
    return out


def headline(results: dict) -> str:
    """The README's table: key metrics, every profile and system, one row each."""
    systems = [s for s in ("soundloop", *BASELINES)
               if any(s in p["systems"] for p in results["profiles"].values())]
    lines = ["| metric | profile | " + " | ".join(systems) + " |", "|---|---|" + "---|" * len(systems)]
    by_label: dict[str, list[str]] = {}  # a metric's rows for every profile together
    for profile, p in results["profiles"].items():
        ran = {s: {label: (kind, entry) for label, kind, entry in headline_metrics(p, s)}
               for s in systems if s in p["systems"]}
        for label in (*HEADLINE, CPU_LABEL, LOAD_LABEL):
            if label == LOAD_LABEL and not p.get("load"):
                continue
            cells = []
            for s in systems:
                if label not in ran.get(s, {}):
                    cells.append("n/a" if label == LOAD_LABEL else "not run")
                    continue
                kind, entry = ran[s][label]
                cells.append(str(entry["value"]) if kind == "value" else _cell(entry, kind))
            by_label.setdefault(label, []).append(f"| {label} | {profile} | " + " | ".join(cells) + " |")
    return "\n".join(lines + [line for rows in by_label.values() for line in rows])


def write(results: dict, folder: pathlib.Path) -> None:
    (folder / "results.json").write_text(json.dumps(results, indent=1))
    (folder / "report.md").write_text(markdown(results))
    plots(results, folder)


def rescore(results: dict) -> dict:
    """Scores the saved outcomes again (after a change to bench/scoring.py), without rerunning."""
    from bench.outcome import Outcome
    from bench.scenarios import Scenario, build
    from bench.scoring import score, turn_latencies_ms

    if "scenarios" in results:
        scenarios = [Scenario.from_meta(meta) for meta in results["scenarios"]]
    else:  # results from before labels were saved: rebuild them from the seed
        scenarios = build(results["meta"]["seed"], quick=results["meta"]["quick"])
    for profile in results["profiles"].values():
        for system in profile["systems"].values():
            outcomes = [Outcome.from_json(dict(o)) for o in system["outcomes"]]
            ids = {o.id for o in outcomes}
            chosen = [s for s in scenarios if s.id in ids]
            system["scores"] = score(chosen, outcomes)
            system["turn_latencies_ms"] = turn_latencies_ms(chosen, outcomes)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=pathlib.Path)
    parser.add_argument("--rescore", action="store_true", help="recompute scores from the saved outcomes")
    parser.add_argument("--headline", action="store_true", help="print the README's summary table")
    args = parser.parse_args()
    results = json.loads((args.folder / "results.json").read_text())
    write(rescore(results) if args.rescore else results, args.folder)
    if args.headline:
        print(headline(results))


if __name__ == "__main__":
    main()
