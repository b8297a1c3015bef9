"""Before/after: the soundloop benchmark on two revisions in one invocation, and a
table of what changed beyond noise.

    python -m bench.compare --base 4f957bf --quick                 # base commit vs this working tree, both profiles
    python -m bench.compare --base 4f957bf --quick --rounds 2      # twice each, ABBA order, samples pooled
    python -m bench.compare --base HEAD~3 --head HEAD --profile light --only turn-

What runs. Each side is `python -m bench.run --systems soundloop --soundloop-modes M
--no-load --profile P [--quick] [--only ...]`, one profile per subprocess, interleaved: base light, head
light, base default, head default; with --rounds N the order inside a profile flips
every round (base-head, head-base, ...), so slow drift of a noisy machine hits both
sides. Results land in DIR/base/<profile>-<round>/ and DIR/head/<profile>-<round>/
(results.json, report.md, run.log, stage logs); the comparison in DIR/compare.md,
also printed. M is --mode: process (default; soundloop's servers as plain processes,
the only mode bench.run had before it ran Ray Serve too, so any base revision has it;
for a tree whose bench.run has no --soundloop-modes the flag is left out and its
`soundloop` results are that mode) or serve (the Ray Serve app; both trees' bench.run
must have it).

Which code runs. --base (and --head when it names a revision rather than a folder)
is checked out with `git worktree add --detach` into a temporary folder, removed
afterwards, also on Ctrl-C or SIGTERM. Without --head, head is this working tree as
it is, uncommitted changes included. Each subprocess gets cwd = its tree and
PYTHONPATH = its tree first, so `bench`, `soundloop` and `services` come from that
tree and not from the editable install in .venv (soundloop.local_stack starts the
stage servers as `python -m services.X.server` with the inherited cwd and
environment, so they do too). Before each run a probe with the same interpreter, cwd
and environment prints where `bench.run` and every `services.X.server` would be
loaded from; the run is refused unless all lie inside the tree. After the run, the
commit in results.json's meta (bench.run takes it from the tree soundloop.models was
imported from) must be the tree's commit, and in a fresh worktree every stage server
must have left bytecode of its modules there (which tells the trees apart even when
base is the commit the working tree sits on). Both sides share the interpreter (.venv),
the assembled models (SOUNDLOOP_MODELS_DIR, as soundloop.models resolves it here) and
the real recordings cached in .cache/bench/moonshine (copied into the worktree).

Metrics. The rows are bench.report's headline metrics (`headline_metrics`, the rows of
`python -m bench.report --headline`) for soundloop in the mode compared. Rounds are pooled.

Noise judgement (the interval is always of head - base):
  - latency rows: the samples are per turn: results.json's `turn_latencies_ms` for
    "speech end -> first reply audio", and for the other latency rows each scenario
    scored alone with bench.scoring.score (same definitions, one value per scenario).
    Shown: p50 / p95 of the samples and their deltas. Interval: percentile bootstrap
    95% interval of median(head) - median(base), each side resampled on its own,
    10 000 resamples, numpy default_rng(0). Judged on the median only; a p95 of a few
    dozen turns moves too much to judge.
  - rates: the counts k/n of each side and Fisher's exact test (two-sided, on the
    2x2 table; computed here, there is no scipy in the .venv). A rate counts as beyond
    noise when p < 0.05 (the test's counterpart of a 95% interval that excludes 0).
    A bootstrap is no use here: at 0/n or n/n it collapses to [0, 0]. When even the
    most lopsided table the counts allow (0/n against n/n) would not reach p < 0.05
    (e.g. 3 calls a side), the row reads "too few to tell".
  - WER rows: corpus WER (errors / reference words); bootstrap over scenarios, as above.
  - CPU s per caller audio s, one number per run: judged only with 3 or more rounds,
    and only worse when every head round is above every base round (3 v 3: one
    ordering in 20).
  A row reads "worse beyond noise" only when its interval lies wholly on the bad side
  of 0 (above 0 for latencies, WER and CPU; for rates, p < 0.05 with head on the bad
  side: higher for the "lower is better" rates, lower for the others), "better beyond
  noise" the other way, otherwise "within noise". A latency or WER row with fewer than
  5 samples (turns, scenarios) on either side reads "too few to tell" and is never
  flagged: --quick has 4 turn-taking scenarios a profile (2 or 3 of most other
  kinds), so one round judges little; --rounds 2 pools 8 turns a side. Pooled rounds
  repeat the same scenarios, so an interval covers run-to-run noise on this scenario
  set (what a before/after needs), not the luck of how the corpus was drawn.

Exit status: 0 once both sides ran, whatever the table says (it is for humans); 1
when a run failed, could not be shown to run its own tree's code, or git could not
make the worktree; 130 on Ctrl-C.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

from bench import report

ROOT = pathlib.Path(__file__).resolve().parents[1]
SYSTEM = "soundloop"  # bench.run's --systems name for soundloop, whichever mode
MODES = ("process", "serve")
MIN_N = 5  # fewer samples a side than this: too few to tell
RESAMPLES = 10_000
SEED = 0
ALPHA = 0.05  # rates: Fisher's p below this is beyond noise
RAW_TURN_LATENCY = ("turn_taking", "latency")  # the row whose per-turn samples bench.run saves as turn_latencies_ms
STAGE_SERVERS = ("encoder", "llm", "decider", "tts", "gateway")  # as soundloop.local_stack starts them
PROBE_MODULES = ("bench.run", "soundloop.models", *(f"services.{s}.server" for s in STAGE_SERVERS))
PROBE = ("import importlib.util, json, sys; "
         "print(json.dumps({m: importlib.util.find_spec(m).origin for m in sys.argv[1:]}))")


class CompareError(RuntimeError):
    """A benchmark run could not be made or trusted."""


# ---------------------------------------------------------------------------------------------- the statistics

def bootstrap_interval(base: np.ndarray, head: np.ndarray, statistic, seed: int = SEED) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of statistic(head) - statistic(base); each side resampled on its own.
    `statistic` reduces axis 1 of an array of resamples (rows of the samples' first axis)."""
    rng = np.random.default_rng(seed)
    b = base[rng.integers(0, len(base), (RESAMPLES, len(base)))]
    h = head[rng.integers(0, len(head), (RESAMPLES, len(head)))]
    lo, hi = np.percentile(statistic(h) - statistic(b), [2.5, 97.5])
    return float(lo), float(hi)


def _median(resamples: np.ndarray) -> np.ndarray:
    return np.median(resamples, axis=1)


def _corpus_wer(resamples: np.ndarray) -> np.ndarray:  # rows of (errors, reference words)
    return resamples[..., 0].sum(axis=1) / np.maximum(resamples[..., 1].sum(axis=1), 1e-9)


def fisher_exact(k_base: int, n_base: int, k_head: int, n_head: int) -> float:
    """Two-sided p of Fisher's exact test on [[k_base, n_base - k_base], [k_head, n_head - k_head]]: the
    probability, with both margins fixed, of a table no more likely than the one seen."""
    hits, total = k_base + k_head, n_base + n_head

    def p(x: int) -> float:
        return math.comb(hits, x) * math.comb(total - hits, n_base - x) / math.comb(total, n_base)

    seen = p(k_base)
    return min(1.0, sum(q for x in range(max(0, n_base - (total - hits)), min(hits, n_base) + 1)
                        if (q := p(x)) <= seen * (1 + 1e-7)))


def verdict(interval: tuple[float, float], lower_is_better: bool) -> str:
    lo, hi = interval
    worse, better = (lo > 0, hi < 0) if lower_is_better else (hi < 0, lo > 0)
    return WORSE if worse else "better beyond noise" if better else "within noise"


WORSE = "**worse beyond noise**"


def lower_is_better(label: str, kind: str) -> bool:
    if label == report.LOAD_LABEL:
        return False
    return (kind in ("ms", "wer") or label in (report.CPU_LABEL, report.FIRST_CALL_LABEL, report.SERVE_LABEL)
            or "lower is better" in label)


# ------------------------------------------------------------------------------------------ samples from results

def system_key(results: dict, profile: str, mode: str = "process") -> str:
    """The system in `results` that is soundloop run in `mode`: `soundloop-process` or `soundloop` (Serve) in
    results of bench.run with both modes; a `soundloop` without a "mode", from before, ran as processes."""
    systems = results["profiles"][profile]["systems"]
    for name in report.OURS:
        if name in systems and systems[name].get("mode", "process") == mode:
            return name
    raise CompareError(f"no soundloop run in {mode} mode in the {profile} results (systems: {sorted(systems)})")


def per_scenario_scores(results: dict, profile: str, system: str = SYSTEM) -> list[dict] | None:
    """Each scenario's outcome scored alone (bench.scoring.score), for per-scenario samples; None when the
    results carry no scenario labels (results.json from before they were saved)."""
    if "scenarios" not in results:
        return None
    from bench.outcome import Outcome
    from bench.scenarios import Scenario
    from bench.scoring import score

    outcomes = {o["id"]: o for o in results["profiles"][profile]["systems"][system].get("outcomes", [])}
    return [score([Scenario.from_meta(meta)], [Outcome.from_json(dict(outcomes[meta["id"]]))])
            for meta in results["scenarios"] if meta["id"] in outcomes]


@dataclasses.dataclass
class Side:
    """One side's runs of one profile, pooled: what a row needs."""
    runs: list[dict]  # results.json of each round
    profile: str
    mode: str = "process"
    _scored: list | None = None

    def system(self, results: dict) -> str:
        return system_key(results, self.profile, self.mode)

    def entries(self, label: str) -> list[tuple[str, dict]]:
        """(kind, entry) of `label` in each round."""
        out = []
        for results in self.runs:
            profile = results["profiles"][self.profile]
            for row_label, kind, entry in report.headline_metrics(profile, self.system(results)):
                if row_label == label:
                    out.append((kind, entry))
        return out

    def scored(self) -> list[list[dict]] | None:
        if self._scored is None:
            self._scored = [per_scenario_scores(r, self.profile, self.system(r)) for r in self.runs]
        return None if any(s is None for s in self._scored) else self._scored

    def latencies(self, path: tuple[str, str]) -> np.ndarray | None:
        if path == RAW_TURN_LATENCY:
            return np.asarray([x for r in self.runs
                               for x in r["profiles"][self.profile]["systems"][self.system(r)]
                               .get("turn_latencies_ms", [])],
                              float)
        scored = self.scored()
        if scored is None:
            return None
        return np.asarray([e["p50_ms"] for rnd in scored for sc in rnd
                           if (e := report._get(sc, path)).get("n")], float)

    def wer_pairs(self, path: tuple[str, str]) -> np.ndarray | None:
        scored = self.scored()
        if scored is None:
            return None
        return np.asarray([(e["wer"] * e["ref_words"], e["ref_words"]) for rnd in scored for sc in rnd
                           if (e := report._get(sc, path)).get("n")], float).reshape(-1, 2)

    def failed(self) -> list[str]:
        return [f for r in self.runs for f in
                r["profiles"][self.profile]["systems"][self.system(r)].get("scores", {}).get("failed", [])]


@dataclasses.dataclass
class Row:
    label: str
    base: str
    head: str
    delta: str
    interval: str
    verdict: str

    @property
    def worse(self) -> bool:
        return self.verdict == WORSE


def _ms_row(label: str, path: tuple[str, str], base: Side, head: Side) -> Row:
    b, h = base.latencies(path), head.latencies(path)
    if b is None or h is None:  # no labels saved: the round-1 figures as the report shows them, unjudged
        cells = [report._cell(side.entries(label)[0][1], "ms") for side in (base, head)]
        return Row(label, *cells, "", "", "not judged (no per-scenario labels in results.json)")

    def cell(x: np.ndarray) -> str:
        return f"{np.percentile(x, 50):.0f} / {np.percentile(x, 95):.0f} (n={len(x)})" if len(x) else "n/a (n=0)"

    if not len(b) or not len(h):
        return Row(label, cell(b), cell(h), "", "", "no samples")
    delta = (f"{np.percentile(h, 50) - np.percentile(b, 50):+.0f} / "
             f"{np.percentile(h, 95) - np.percentile(b, 95):+.0f}")
    if min(len(b), len(h)) < MIN_N:
        return Row(label, cell(b), cell(h), delta, "", f"too few to tell (n={len(b)} v {len(h)})")
    lo, hi = bootstrap_interval(b, h, _median)
    return Row(label, cell(b), cell(h), delta, f"p50 [{lo:+.0f}, {hi:+.0f}] ms", verdict((lo, hi), True))


def _rate_row(label: str, base: Side, head: Side) -> Row:
    def counts(side: Side) -> tuple[int, int]:
        entries = [e for _, e in side.entries(label) if e.get("n")]
        return sum(round(e["rate"] * e["n"]) for e in entries), sum(e["n"] for e in entries)

    (kb, nb), (kh, nh) = counts(base), counts(head)

    def cell(k: int, n: int) -> str:
        return f"{k / n:.2f} ({k}/{n})" if n else "n/a (n=0)"

    if not nb or not nh:
        return Row(label, cell(kb, nb), cell(kh, nh), "", "", "no samples")
    delta = f"{kh / nh - kb / nb:+.2f}"
    best_case = fisher_exact(0, nb, nh, nh)
    if best_case >= ALPHA:
        return Row(label, cell(kb, nb), cell(kh, nh), delta, "",
                   f"too few to tell (n={nb} v {nh}: even 0/{nb} v {nh}/{nh} gives p={best_case:.2f})")
    p = fisher_exact(kb, nb, kh, nh)
    if p >= ALPHA:
        judgement = "within noise"
    else:
        worse = (kh / nh > kb / nb) == lower_is_better(label, "rate")
        judgement = WORSE if worse else "better beyond noise"
    return Row(label, cell(kb, nb), cell(kh, nh), delta, f"Fisher p={p:.2f}", judgement)


def _wer_row(label: str, path: tuple[str, str], base: Side, head: Side) -> Row:
    def pooled(side: Side) -> tuple[float | None, int]:
        entries = [e for _, e in side.entries(label) if e.get("n")]
        words = sum(e["ref_words"] for e in entries)
        return (sum(e["wer"] * e["ref_words"] for e in entries) / words if words else None), words

    (wb, words_b), (wh, words_h) = pooled(base), pooled(head)

    def cell(w: float | None, words: int) -> str:
        return "n/a" if w is None else f"{w:.3f} ({words} words)"

    if wb is None or wh is None:
        return Row(label, cell(wb, words_b), cell(wh, words_h), "", "", "no samples")
    delta = f"{wh - wb:+.3f}"
    b, h = base.wer_pairs(path), head.wer_pairs(path)
    if b is None or h is None:
        return Row(label, cell(wb, words_b), cell(wh, words_h), delta, "",
                   "not judged (no per-scenario labels in results.json)")
    if min(len(b), len(h)) < MIN_N:
        return Row(label, cell(wb, words_b), cell(wh, words_h), delta, "",
                   f"too few to tell ({len(b)} v {len(h)} scenarios)")
    lo, hi = bootstrap_interval(b, h, _corpus_wer)
    return Row(label, cell(wb, words_b), cell(wh, words_h), delta, f"[{lo:+.3f}, {hi:+.3f}]", verdict((lo, hi), True))


def _value_row(label: str, base: Side, head: Side) -> Row:
    b = [e["value"] for _, e in base.entries(label) if e.get("value") is not None]
    h = [e["value"] for _, e in head.entries(label) if e.get("value") is not None]

    def cell(values: list) -> str:
        if not values:
            return "n/a"
        return f"{np.mean(values):.3g}" + (f" ({', '.join(f'{v:.3g}' for v in values)})" if len(values) > 1 else "")

    if not b or not h:
        return Row(label, cell(b), cell(h), "", "", "no samples")
    delta = f"{np.mean(h) - np.mean(b):+.3g}"
    if min(len(b), len(h)) < 3:
        return Row(label, cell(b), cell(h), delta, "", "one value a run: needs --rounds 3 to judge")
    lower = lower_is_better(label, "value")
    # Every head round on one side of every base round; the "interval" is (min, max) of head - base over pairs.
    return Row(label, cell(b), cell(h), delta, f"[{min(h) - max(b):+.3g}, {max(h) - min(b):+.3g}]",
               verdict((min(h) - max(b), max(h) - min(b)), lower))


def compare_profile(base_runs: list[dict], head_runs: list[dict], profile: str, mode: str = "process") -> list[Row]:
    """One row per headline metric of soundloop (run in `mode`) in `profile`, base against head (each a list of
    rounds)."""
    base, head = Side(base_runs, profile, mode), Side(head_runs, profile, mode)
    paths = {label: path for label, path, _ in report.ROWS}
    rows = []
    for label, kind, _ in report.headline_metrics(base_runs[0]["profiles"][profile], base.system(base_runs[0])):
        if kind == "ms":
            rows.append(_ms_row(label, paths[label], base, head))
        elif kind == "rate":
            rows.append(_rate_row(label, base, head))
        elif kind == "wer":
            rows.append(_wer_row(label, paths[label], base, head))
        else:
            rows.append(_value_row(label, base, head))
    return rows


def markdown(runs: dict[str, dict[str, list[dict]]], sides: dict[str, str], notes: list[str],
             mode: str = "process") -> str:
    """compare.md: runs[side][profile] = results of each round; sides[side] = what the side ran."""
    profiles = list(runs["base"])
    tables, worse = [], []
    for profile in profiles:
        rows = compare_profile(runs["base"][profile], runs["head"][profile], profile, mode)
        worse += [f"{profile}: {r.label}" for r in rows if r.worse]
        tables += [f"## Profile `{profile}`", "", "| metric | base | head | delta (head - base) | 95% interval or p "
                   "| noise judgement |", "|---|---|---|---|---|---|"]
        tables += [f"| {r.label} | {r.base} | {r.head} | {r.delta} | {r.interval} | {r.verdict} |" for r in rows]
        tables.append("")
        for side in ("base", "head"):
            failed = Side(runs[side][profile], profile, mode).failed()
            if failed:
                tables.append(f"- {side}: {len(failed)} scenario runs failed outright: {', '.join(failed[:10])}")
        tables.append("")
    first = runs["base"][profiles[0]][0]["meta"]
    rounds = len(runs["base"][profiles[0]])
    lines = ["# soundloop before / after", "",
             f"- base: {sides['base']}", f"- head: {sides['head']}",
             f"- {first['machine']}; seed {first['seed']}; {'quick' if first['quick'] else 'full'} corpus, "
             f"{first['scenarios']} scenarios a run; {rounds} round{'s' * (rounds > 1)} a side and profile, "
             f"order alternating (ABBA); soundloop only, {'under Ray Serve' if mode == 'serve' else 'as processes'}"
             f" (--mode {mode}), no load test.", *[f"- {n}" for n in notes], "",
             "Worse beyond noise: " + ("; ".join(worse) if worse else "none") + ".", "",
             "Latencies in ms (p50 / p95 of the pooled samples); rates as fractions (k/n). Interval: of head - base; "
             "latencies: bootstrap of the median difference; WER: bootstrap over scenarios; rates: Fisher's exact "
             f"test instead (p < {ALPHA} is beyond noise). Latencies and WER with fewer than {MIN_N} samples a side, "
             "and rates whose counts could not reach p < 0.05 whatever they were: too few to tell. "
             "See `python -m bench.compare --help`.", "", *tables]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------- the runs

@dataclasses.dataclass
class Tree:
    path: pathlib.Path
    commit: str  # short hash of the tree's HEAD
    description: str
    temporary: bool = False


def _git(*args: str, cwd: pathlib.Path = ROOT) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        raise CompareError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def checkout(rev: str, folder: pathlib.Path) -> Tree:
    commit = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    _git("worktree", "add", "--detach", str(folder), commit)
    short = _git("rev-parse", "--short", "HEAD", cwd=folder)
    moonshine = ROOT / ".cache" / "bench" / "moonshine"  # real recordings, checked by sha256 when made
    if moonshine.is_dir():
        shutil.copytree(moonshine, folder / ".cache" / "bench" / "moonshine")
    name = short if commit.startswith(rev) else f"{rev} = {short}"
    return Tree(folder, short, f"{name} (detached worktree {folder})", temporary=True)


def working_tree(folder: pathlib.Path) -> Tree:
    top = pathlib.Path(_git("rev-parse", "--show-toplevel", cwd=folder))
    short = _git("rev-parse", "--short", "HEAD", cwd=top)
    changed = [line for line in _git("status", "--porcelain", "--untracked-files=no", cwd=top).splitlines() if line]
    dirty = f" + uncommitted changes in {len(changed)} files" if changed else ""
    return Tree(top, short, f"working tree {top} at {short}{dirty}")


def remove(tree: Tree) -> None:
    if not tree.temporary:
        return
    done = subprocess.run(["git", "worktree", "remove", "--force", str(tree.path)], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        shutil.rmtree(tree.path, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)


def child_env(tree: Tree, models: pathlib.Path) -> dict[str, str]:
    env = dict(os.environ, SOUNDLOOP_MODELS_DIR=str(models), PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tree.path), os.environ.get("PYTHONPATH", "")) if p)
    if tree.temporary:  # bytecode in a throwaway worktree is harmless, and it shows who ran from there
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def probe(tree: Tree, env: dict[str, str]) -> dict[str, str]:
    """Where the benchmark and the stage servers would be loaded from, asked with the run's own interpreter,
    cwd and environment; refuses when any lies outside the tree."""
    done = subprocess.run([sys.executable, "-c", PROBE, *PROBE_MODULES], cwd=tree.path,
                          env=dict(env, PYTHONDONTWRITEBYTECODE="1"), capture_output=True, text=True)
    if done.returncode:
        raise CompareError(f"probe in {tree.path} failed: {done.stderr.strip()[-2000:]}")
    origins = json.loads(done.stdout)
    root = tree.path.resolve()
    outside = {m: o for m, o in origins.items() if not o or not pathlib.Path(o).resolve().is_relative_to(root)}
    if outside:
        raise CompareError(f"these would not run from {root}: {outside}")
    return origins


def compiled_stages(tree: Tree) -> set[str]:
    """Stage packages with bytecode of a module other than their __init__ in the tree: in a fresh worktree,
    written only by a stage server that imported its code from there."""
    def compiled(stage: str) -> bool:
        pyc = (tree.path / "services" / stage / "__pycache__").glob("*.pyc")
        return any(not f.name.startswith("__init__.") for f in pyc)

    return {stage for stage in STAGE_SERVERS if compiled(stage)}


def has_modes(tree: Tree) -> bool:
    """Whether the tree's bench.run takes --soundloop-modes (older ones ran process mode only). Read from its
    source: the probe has shown bench.run is imported from the tree."""
    return "--soundloop-modes" in (tree.path / "bench" / "run.py").read_text()


def _stop(proc: subprocess.Popen) -> None:
    """Ctrl-C for the child (bench.run then stops its stage servers and Redis), harder if it does not end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # another Ctrl-C must not cut this short
    for sig, wait_s in ((signal.SIGINT, 60), (signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.communicate(timeout=wait_s)  # drains its output too
        except subprocess.TimeoutExpired:
            pass


def run_side(side: str, tree: Tree, profile: str, round_: int, out: pathlib.Path, args, models: pathlib.Path) -> dict:
    folder = out / side / f"{profile}-{round_}"
    folder.mkdir(parents=True, exist_ok=True)
    env = child_env(tree, models)
    origins = probe(tree, env)
    cmd = [sys.executable, "-m", "bench.run", "--systems", SYSTEM, "--no-load", "--profile", profile,
           "--seed", str(args.seed), "--out", str(folder)]
    if has_modes(tree):
        cmd += ["--soundloop-modes", args.mode]
    elif args.mode != "process":
        raise CompareError(f"{tree.description}: its bench.run runs soundloop in process mode only; use --mode process")
    if args.quick:
        cmd.append("--quick")
    if args.only:
        cmd += ["--only", args.only]
    tag = f"[{side} {profile} {round_}]"
    print(f"{tag} cwd {tree.path}: {' '.join(cmd[1:])}", flush=True)
    print(f"{tag} services.gateway.server -> {origins['services.gateway.server']}", flush=True)
    compiled_before = compiled_stages(tree)
    started = time.monotonic()
    with open(folder / "run.log", "w") as log:
        log.write(json.dumps({"cwd": str(tree.path), "cmd": cmd, "origins": origins}) + "\n")
        # Its own session: a Ctrl-C here reaches it once, from _stop, not twice (terminal + forward).
        proc = subprocess.Popen(cmd, cwd=tree.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, bufsize=1, start_new_session=True)
        try:
            for line in proc.stdout:
                log.write(line)
                print(f"{tag} {line}", end="", flush=True)
            rc = proc.wait()
        except BaseException:
            _stop(proc)
            raise
    if rc:
        raise CompareError(f"{tag} bench.run exited with {rc}; see {folder / 'run.log'}")
    results = json.loads((folder / "results.json").read_text())
    system_key(results, profile, args.mode)  # refuses results without soundloop in that mode
    commit = results["meta"].get("commit", "")
    if not (commit and (commit.startswith(tree.commit) or tree.commit.startswith(commit))):
        raise CompareError(f"{tag} results.json says commit {commit!r}, the tree is at {tree.commit}: "
                           "the run did not use the tree's code")
    print(f"{tag} done in {time.monotonic() - started:.0f} s, results.json commit {commit}", flush=True)
    if tree.temporary and not compiled_before:
        # The commit says bench.run ran from the tree; this says the stage servers it started did too.
        missing = set(STAGE_SERVERS) - compiled_stages(tree)
        if missing:
            raise CompareError(f"{tag} no bytecode written in {tree.path} for services {sorted(missing)}: "
                               "those stage servers did not run the tree's code")
        print(f"{tag} every stage server compiled its modules in {tree.path}", flush=True)
    return results


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="git revision to compare against (checked out in a worktree)")
    parser.add_argument("--head", help="a folder (a checkout, run as it is) or a git revision; "
                                       "default: this working tree as it is, uncommitted changes included")
    parser.add_argument("--profile", action="append", choices=("light", "default"),
                        help="repeatable; default: light and default")
    parser.add_argument("--quick", action="store_true", help="bench.run --quick: 18 scenarios a profile")
    parser.add_argument("--only", default="", help="comma-separated scenario id prefixes, passed to bench.run")
    parser.add_argument("--rounds", type=int, default=1,
                        help="runs per side and profile, pooled (ABBA order); use an even number: with an "
                             "odd one head runs second more often, and a second run can be slower")
    parser.add_argument("--mode", choices=MODES, default="process",
                        help="how soundloop runs on both sides: process (default; any base revision has it) or "
                             "serve (Ray Serve; both trees' bench.run must have --soundloop-modes)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=pathlib.Path,
                        default=ROOT / "bench-out" / f"compare-{time.strftime('%Y%m%d-%H%M%S')}")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    profiles = args.profile or ["light", "default"]
    from soundloop.models import models_dir

    models = models_dir().resolve()
    args.out = args.out.resolve()
    signal.signal(signal.SIGTERM, _interrupt)
    trees: dict[str, Tree] = {}
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="soundloop-compare-"))
    try:
        trees["base"] = checkout(args.base, scratch / "base")
        head_dir = pathlib.Path(args.head) if args.head else ROOT
        trees["head"] = working_tree(head_dir) if head_dir.is_dir() else checkout(args.head, scratch / "head")
        for side, tree in trees.items():
            print(f"{side}: {tree.description}", flush=True)
        runs: dict[str, dict[str, list[dict]]] = {"base": {}, "head": {}}
        for round_ in range(1, args.rounds + 1):
            for profile in profiles:
                order = ("base", "head") if round_ % 2 else ("head", "base")
                for side in order:
                    runs[side].setdefault(profile, []).append(
                        run_side(side, trees[side], profile, round_, args.out, args, models))
        notes = [f"finished {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}; models: {models}",
                 f"runs and logs: {args.out}/{{base,head}}/<profile>-<round>/"]
        text = markdown(runs, {s: t.description for s, t in trees.items()}, notes, args.mode)
        (args.out / "compare.md").write_text(text + "\n")
        print(text, flush=True)
        print(f"written: {args.out / 'compare.md'}", flush=True)
        return 0
    except CompareError as e:
        print(f"bench.compare: {e}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("bench.compare: interrupted", file=sys.stderr, flush=True)
        return 130
    finally:
        # A second Ctrl-C must not leave a worktree behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for tree in trees.values():
            remove(tree)
        shutil.rmtree(scratch, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
