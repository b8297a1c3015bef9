"""results.json -> report.md and plots (latency CDFs, a typical turn's waterfall,
latency against concurrent callers). `python -m bench.report <folder>` redraws
them from a saved results.json; `--rescore` scores its raw outcomes again first (bench.scoring.rescore).
"""
from __future__ import annotations

import argparse
import json
import pathlib

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import numpy as np

from bench import scoring

# soundloop's two ways to run (bench.run's --soundloop-modes): `soundloop` is the Ray Serve app, the path users
# deploy; `soundloop-process` the same servers as plain processes. Results from before both ran hold one
# `soundloop` without a "mode": that was process mode.
SERVE, PROCESS = "soundloop", "soundloop-process"
OURS = (SERVE, PROCESS)
MODE_OF = {SERVE: "serve", PROCESS: "process"}  # for bench.run's results; see display_name for older ones
BASELINES = ("naive", "naive-whisper", "pipecat")
SERVE_GOAL = 1.10  # Serve's voice-to-voice p50 at most 10 % above process mode's
FIRST_CALL_GOAL = 1.20  # a fresh server's first call at most 20 % above the steady-state median
VOICE_TO_VOICE = ("turn_taking", "latency")  # speech end -> first reply audio: the voice-to-voice latency
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
    ("turn-taking: silence inside the reply once it started", ("turn_taking", "reply_stall"), "ms"),
    ("turn-taking: replies with a gap > 100 ms", ("turn_taking", "replies_stalled"), "rate"),
    ("pause: answered once the caller finished", ("pause", "answered_after_pause"), "rate"),
    ("pause takeover, real recordings", ("pause", "takeover_real_speech"), "rate"),
    ("pause takeover, 8 kHz G.711 callers", ("pause", "takeover_8k_mulaw"), "rate"),
    ("pause takeover, noise at 20/10/5 dB SNR", ("pause", "takeover_noisy"), "rate"),
    ("pause takeover, breath", ("pause", "takeover_by_kind", "breath"), "rate"),
    ("pause takeover, complete first half", ("pause", "takeover_by_kind", "complete_first_half"), "rate"),
    ("pause takeover, trailing word", ("pause", "takeover_by_kind", "trailing_word"), "rate"),
    ("pause takeover, list", ("pause", "takeover_by_kind", "list"), "rate"),
    ("pause takeover, hesitation", ("pause", "takeover_by_kind", "hesitation"), "rate"),
    ("pause takeover, real recording", ("pause", "takeover_by_kind", "real_recording"), "rate"),
    ("backchannel: false-stop rate (lower is better)", ("backchannel", "false_stop"), "rate"),
    ("backchannel: answered the 'mm-hm' as a turn", ("backchannel", "new_reply_to_backchannel"), "rate"),
    ("interruption: barge-in success", ("interruption", "barge_in_success"), "rate"),
    ("interruption: onset -> last reply audio", ("interruption", "stop_latency"), "ms"),
    ("interruption: answered the new content", ("interruption", "answered_new_content"), "rate"),
    ("interruption: its end -> answer audio", ("interruption", "new_answer_latency"), "ms"),
    ("short interruption ('Wait.'): stopped", ("short_interruption", "stopped"), "rate"),
    ("short interruption: onset -> last reply audio", ("short_interruption", "stop_latency"), "ms"),
    ("proactive sound: decision accuracy", ("sound", "accuracy"), "rate"),
    ("proactive sound: respond recall", ("sound", "respond_recall"), "rate"),
    ("proactive sound: ignored correctly", ("sound", "ignore_correct"), "rate"),
    ("proactive sound: onset -> reaction audio", ("sound", "onset_to_reaction_audio"), "ms"),
    ("instructions: compliance", ("instruction", "compliance"), "rate"),
    ("  one sentence", ("instruction", "one_sentence"), "rate"),
    ("  only transcribe", ("instruction", "transcribe_only"), "rate"),
    ("  quiet until asked or named", ("instruction", "quiet_until_asked"), "rate"),
    ("  talk again after transcribing", ("instruction", "back_to_converse"), "rate"),
    ("  transcribe-only transcripts, WER", ("instruction", "transcribe_only_wer"), "wer"),
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
    "soundloop (Serve): the Ray Serve app of deploy/serve/soundloop*.yaml on a local Ray cluster, called on its "
    "gateway's port; its CPU and RSS are every process of the Ray cluster (replicas, Serve controller and proxy, "
    "raylet, GCS, agents; idle pool workers left out), as process mode's are its five servers'. Ray runs its "
    "workers, so every replica, at nice 15; the benchmark client (driver and load generator) then runs at the "
    "replicas' niceness, as it runs at the stage servers' (0) in process mode (see results' `nice`).",
    "first call after start: the first call the benchmark makes once the server reports SERVING (a fresh "
    "server; a turn-taking scenario), not counted among the scenarios; speech end -> first reply audio, with no "
    "5 s reply window, and its ratio to the system's steady-state turn-taking p50.",
    "load: calls ramp up until one level fails the target, plus one level past it; the capacity is the "
    "largest N before the first failure.",
    "naive: simulated on the caller's timeline (each stage's compute measured in wall-clock time, silences "
    "counted in audio time); one process, so its peak RSS includes the benchmark's own.",
    "pipecat: its output transport plays audio at real time and times are when a frame starts playing; a "
    "fresh pipeline per call (models load per call, as in a bot-per-call deployment, and are not warmed); all "
    "calls run in one runner process, so its peak RSS accumulates over the calls and is not one call's "
    "footprint; CPU includes the per-call model loads; Whisper runs with Pipecat's default beam size (5); "
    "TTS is Piper in both profiles (soundloop's light profile speaks with espeak-ng).",
)


def _get(scores: dict, path: tuple[str, ...]) -> dict:
    entry = scores.get("categories", {})
    for key in path:
        entry = entry.get(key, {}) or {}
    return entry


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


def display_name(name: str, system: dict | None = None) -> str:
    system = system or {}
    if system.get("turn_model"):
        return f"soundloop (processes, {system['turn_model']} turn model)"
    return {"serve": "soundloop (Serve)", "process": "soundloop (processes)"}.get(system.get("mode"), name)


def _rules_run(systems: dict) -> str | None:
    """The process-mode run on the rules turn model: its own arm, or the server's default run."""
    if f"{PROCESS}-rules" in systems:
        return f"{PROCESS}-rules"
    return PROCESS if systems.get(PROCESS, {}).get("default_turn_model") == "rules" else None


def turn_model_arms(systems: dict) -> list[str]:
    """Process-mode runs where every session asked for one turn model (bench.run --turn-models)."""
    return sorted(s for s in systems if s.startswith(PROCESS + "-"))


def primary(systems: dict) -> str | None:
    """The soundloop system the baselines are compared with: the Serve path when it ran."""
    return next((s for s in OURS if s in systems), None)


def system_load(profile: dict, system: str) -> dict | None:
    """The load ramp run against `system`, if any (results before both modes: the profile's one, soundloop's)."""
    load = profile["systems"].get(system, {}).get("load")
    if load is None and system == SERVE and "levels" in (profile.get("load") or {}):
        load = profile["load"]
    return load


def serve_vs_process(systems: dict) -> dict | None:
    """Serve's voice-to-voice p50 against process mode's, when both ran and answered."""
    if SERVE not in systems or PROCESS not in systems or systems[SERVE].get("mode") != "serve":
        return None
    serve, process = (_get(systems[s].get("scores", {}), VOICE_TO_VOICE).get("p50_ms") for s in (SERVE, PROCESS))
    if serve is None or not process:
        return None
    ratio = serve / process
    return {"serve_p50_ms": serve, "process_p50_ms": process, "ratio": round(ratio, 3),
            "meets_goal": ratio <= SERVE_GOAL}


def _first_call_cell(first: dict | None) -> str:
    if not first:
        return "n/a"
    if first.get("voice_to_voice_ms") is None:
        return "no reply" + (f" ({first['error']})" if first.get("error") else "")
    ratio = first.get("ratio")
    return f"{first['voice_to_voice_ms']:.0f}" + ("" if ratio is None else f" ({ratio:.2f}x median)")


def _table(systems: dict) -> list[str]:
    """The profile's metrics table: each soundloop mode, Serve / processes, each baseline with its ratio."""
    arms = turn_model_arms(systems)
    present = [s for s in (*OURS, *arms, *BASELINES) if s in systems]
    ours = primary(systems)
    both = SERVE in systems and PROCESS in systems
    columns: list[tuple[str, str, str | None]] = []  # (header, system, None) or (header, numerator, denominator)
    for s in present:
        columns.append((display_name(s, systems[s]), s, None))
        if s == PROCESS and both:
            columns.append(("Serve / processes", SERVE, PROCESS))
        if s == f"{PROCESS}-learned" and (rules := _rules_run(systems)):
            columns.append(("learned / rules", s, rules))
        if s in BASELINES and ours:
            columns.append((f"ratio vs {s}", ours, s))
    lines = ["| metric | " + " | ".join(h for h, _, _ in columns) + " |", "|---|" + "---|" * len(columns)]
    for label, path, kind in ROWS:
        cells = []
        for _, a, b in columns:
            entry = _get(systems[a].get("scores", {}), path)
            if b is None:
                cells.append(_cell(entry, kind))
            else:
                cells.append(_ratio(_value(entry, kind), _value(_get(systems[b].get("scores", {}), path), kind))
                             if kind == "ms" else "")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for key, label in (("cpu_s_per_audio_s", "CPU s per caller audio s"),
                       ("peak_rss_mb_total", "peak RSS, all processes (MB)")):
        cells = []
        for _, a, b in columns:
            value = systems[a].get("resources", {}).get(key)
            if b is None:
                cells.append("n/a" if value is None else f"{value}")
            else:
                cells.append(_ratio(value, systems[b].get("resources", {}).get(key)))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    cells = []
    for _, a, b in columns:
        first = systems[a].get("first_call")
        if b is None:
            cells.append(_first_call_cell(first))
        else:
            other = systems[b].get("first_call") or {}
            cells.append(_ratio((first or {}).get("voice_to_voice_ms"), other.get("voice_to_voice_ms")))
    lines.append("| first call after start: speech end -> first reply audio (x own median) | "
                 + " | ".join(cells) + " |")
    return lines


def _goal_lines(systems: dict) -> list[str]:
    lines = []
    compared = serve_vs_process(systems)
    if compared:
        lines.append(f"- Serve vs processes, voice-to-voice p50 (turn-taking, speech end -> first reply audio): "
                     f"{compared['serve_p50_ms']:.0f} vs {compared['process_p50_ms']:.0f} ms, "
                     f"{(compared['ratio'] - 1) * 100:+.1f} % (goal: at most +{(SERVE_GOAL - 1) * 100:.0f} %): "
                     f"**{'met' if compared['meets_goal'] else 'not met'}**.")
    for s in OURS:
        first = systems.get(s, {}).get("first_call")
        if first:
            ratio = first.get("ratio")
            verdict = "" if ratio is None else (f" (goal: at most {FIRST_CALL_GOAL:.2f}x): "
                                                f"**{'met' if ratio <= FIRST_CALL_GOAL else 'not met'}**")
            steady = first.get("steady_state_p50_ms")
            if first.get("voice_to_voice_ms") is None:
                said = _first_call_cell(first)
            else:
                said = f"{first['voice_to_voice_ms']:.0f} ms" + ("" if ratio is None else f" = {ratio:.2f}x")
            lines.append(f"- {display_name(s, systems[s])}, first call after start ({first['scenario']}): {said} "
                         f"the steady-state p50 ({'n/a' if steady is None else f'{steady:.0f} ms'}){verdict}.")
    busy = {display_name(s, systems[s]): systems[s]["machine_load_avg"][1] for s in OURS
            if systems.get(s, {}).get("machine_load_avg")}
    if busy:
        lines.append("- machine load average (5 min) after the scenarios: "
                     + ", ".join(f"{name} {v:.1f}" for name, v in busy.items())
                     + " (above the core count, other work competed; Serve's replicas, at nice 15, yield to any "
                       "of it at nice 0, the processes do not).")
    nice = systems.get(SERVE, {}).get("nice")
    if nice:
        client_cpu = systems[SERVE].get("resources", {}).get("client_cpu_s")
        lines.append(f"- soundloop (Serve): replicas at nice {nice.get('serve_replicas')}, benchmark client at "
                     f"nice {nice.get('client')}" + ("" if client_cpu is None else
                                                     f" (client CPU over the scenarios: {client_cpu} s)") + ".")
    return lines


def markdown(results: dict) -> str:
    meta = results["meta"]
    lines = [f"# soundloop benchmark ({'quick' if meta['quick'] else 'full'} run)", "",
             f"{meta['date']}, commit {meta['commit']}, {meta['machine']}; seed {meta['seed']}; "
             f"{meta['scenarios']} scenarios ({', '.join(f'{k} {v}' for k, v in meta['per_category'].items())}).",
             "", "Latencies are p50 / p95 in ms; rates are fractions of the scenarios where the behaviour applied; "
             "ratio vs a baseline = soundloop (Serve when it ran, else processes) / baseline; Serve / processes = "
             "soundloop under Ray Serve / soundloop as plain processes (for latency below 1 is better).", ""]
    for profile, p in results["profiles"].items():
        systems = p["systems"]
        present = [s for s in (*OURS, *BASELINES) if s in systems]
        lines += [f"## Profile `{profile}`", ""]
        lines += _table(systems)
        lines.append("")
        lines += _goal_lines(systems)
        for s in present:
            name = display_name(s, systems[s])
            rss = systems[s].get("resources", {}).get("peak_rss_mb")
            if rss:
                lines.append(f"- {name} peak RSS per process (MB): " + ", ".join(f"{k} {v}" for k, v in rss.items()))
            notes = systems[s].get("notes")
            if notes:
                lines.append(f"- {name}: {notes}")
            failed = systems[s].get("scores", {}).get("failed")
            if failed:
                lines.append(f"- {name}: {len(failed)} scenarios failed outright: {', '.join(failed[:10])}")
        for s, why in p.get("skipped", {}).items():
            lines.append(f"- {display_name(s, {'mode': MODE_OF.get(s)})} not run: {why}")
        names = [display_name(s, systems[s]) for s in present]
        lines += ["", "### Where the time of a spoken reply goes (ms after the caller's speech end, p50 / p95)", "",
                  "| milestone | " + " | ".join(names) + " |", "|---|" + "---|" * len(present)]
        for milestone in ("final_transcript", "respond_decision", "first_reply_text", "first_reply_audio"):
            row = [_cell(systems[s].get("scores", {}).get("categories", {}).get("stages", {})
                         .get("from_speech_end", {}).get(milestone, {}), "ms") for s in present]
            lines.append(f"| {milestone.replace('_', ' ')} | " + " | ".join(row) + " |")
        lines += ["", "System-reported stage times (ms, p50 / p95):", ""]
        for s in present:
            stages = systems[s].get("scores", {}).get("categories", {}).get("stages", {}).get("system_reported", {})
            if stages:
                lines.append(f"- {display_name(s, systems[s])}: "
                             + "; ".join(f"{k} {_cell(v, 'ms')}" for k, v in stages.items()))
        for s in OURS:
            load = system_load(p, s)
            if not load:
                continue
            lines += ["", f"### Load on {display_name(s, systems.get(s))}: concurrent callers (target p95 "
                      f"voice-to-voice <= {load['target_p95_ms']:.0f} ms, no dropped audio)", "",
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
                ax.step(values, np.arange(1, len(values) + 1) / len(values), where="post",
                        label=display_name(name, system))
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
    ax.set_yticks(range(len(rows)), [f"{p} / {display_name(n, system)}" for p, n, system in rows])
    ax.set(xlabel="ms after the caller's speech end (median turn)", title="Typical turn: when each milestone arrives")
    if labelled:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "waterfall.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    for profile, p in profiles.items():
        for system in OURS:
            levels = (system_load(p, system) or {}).get("levels", [])
            n = [lv["callers"] for lv in levels if lv["voice_to_voice"].get("n")]
            name = display_name(system, p["systems"].get(system))
            for key, style in (("p50_ms", "--"), ("p95_ms", "-")):
                ax.plot(n, [lv["voice_to_voice"][key] for lv in levels if lv["voice_to_voice"].get("n")], style,
                        marker="o", label=f"{profile} {name} {key[:3]}")
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
            "short interruption ('Wait.'): stopped",
            "interruption: onset -> last reply audio", "interruption: its end -> answer audio",
            "proactive sound: decision accuracy", "instructions: compliance", "ASR WER, real recordings",
            "ASR WER, synthetic voices")


CPU_LABEL = "CPU s per caller audio s"
LOAD_LABEL = "most concurrent callers with p95 <= 1.5 s"
FIRST_CALL_LABEL = "first call after start: speech end -> first reply audio (ms)"
SERVE_LABEL = "voice-to-voice p50, Serve / processes"


def headline_metrics(profile: dict, system: str) -> list[tuple[str, str, dict]]:
    """The headline rows of one system in one profile's results, as (label, kind, entry): kind "rate", "ms" or
    "wer" with the entry from its scores (see ROWS), or "value" with {"value": x} (the first call's entry has
    its "ratio" to the steady-state median too). Rows a system has no data for are left out. `bench.compare`
    uses them."""
    rows = {label: (path, kind) for label, path, kind in ROWS}
    ran = profile["systems"].get(system, {})
    out = [(label, rows[label][1], _get(ran.get("scores", {}), rows[label][0])) for label in HEADLINE]
    out.append((CPU_LABEL, "value", {"value": ran.get("resources", {}).get("cpu_s_per_audio_s")}))
    first = ran.get("first_call")
    if first:  # a fresh server's first call: soundloop and naive (Pipecat's every call is a fresh pipeline)
        out.append((FIRST_CALL_LABEL, "value", {"value": first.get("voice_to_voice_ms"), "ratio": first.get("ratio")}))
    load = system_load(profile, system)
    if load:  # the load ramp runs against soundloop only
        out.append((LOAD_LABEL, "value", {"value": load["max_callers"]}))
    if system == SERVE and (compared := serve_vs_process(profile["systems"])):
        out.append((SERVE_LABEL, "value", {"value": compared["ratio"]}))
    return out


def _value_cell(label: str, entry: dict) -> str:
    value = entry.get("value")
    if value is None:
        return "n/a"
    if label == FIRST_CALL_LABEL and entry.get("ratio") is not None:
        return f"{value:.0f} ({entry['ratio']:.2f}x median)"
    if label == SERVE_LABEL:
        return f"{value:.2f} ({(value - 1) * 100:+.0f} %)"
    return str(value)


def headline(results: dict) -> str:
    """The README's table: key metrics, every profile and system, one row each."""
    systems = [s for s in (*OURS, *BASELINES)
               if any(s in p["systems"] for p in results["profiles"].values())]
    names = [display_name(s, next(p["systems"][s] for p in results["profiles"].values() if s in p["systems"]))
             for s in systems]
    lines = ["| metric | profile | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(systems)]
    by_label: dict[str, list[str]] = {}  # a metric's rows for every profile together
    for profile, p in results["profiles"].items():
        ran = {s: {label: (kind, entry) for label, kind, entry in headline_metrics(p, s)}
               for s in systems if s in p["systems"]}
        for label in (*HEADLINE, CPU_LABEL, FIRST_CALL_LABEL, LOAD_LABEL, SERVE_LABEL):
            measured = [ran[s][label] for s in ran if label in ran[s]]
            if all(kind == "value" and entry.get("value") is None for kind, entry in measured):
                continue  # a row nothing in this profile has (no load ramp, one mode, results from before)
            cells = []
            for s in systems:
                if label not in ran.get(s, {}):
                    cells.append("not run" if s not in p["systems"] else "n/a")
                    continue
                kind, entry = ran[s][label]
                cells.append(_value_cell(label, entry) if kind == "value" else _cell(entry, kind))
            by_label.setdefault(label, []).append(f"| {label} | {profile} | " + " | ".join(cells) + " |")
    return "\n".join(lines + [line for rows in by_label.values() for line in rows])


def write(results: dict, folder: pathlib.Path) -> None:
    (folder / "results.json").write_text(json.dumps(results, indent=1))
    (folder / "report.md").write_text(markdown(results))
    plots(results, folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=pathlib.Path)
    parser.add_argument("--rescore", action="store_true", help="recompute scores from the saved outcomes")
    parser.add_argument("--headline", action="store_true", help="print the README's summary table")
    args = parser.parse_args()
    results = json.loads((args.folder / "results.json").read_text())
    write(scoring.rescore(results) if args.rescore else results, args.folder)
    if args.headline:
        print(headline(results))


if __name__ == "__main__":
    main()
