"""How bench.compare judges a difference between two sides: the table of the headline metrics, each
row judged against the noise of its samples.

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
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from bench import report

SYSTEM = "soundloop"  # bench.run's --systems name for soundloop, whichever mode
MIN_N = 5  # fewer samples a side than this: too few to tell
RESAMPLES = 10_000
SEED = 0
ALPHA = 0.05  # rates: Fisher's p below this is beyond noise
RAW_TURN_LATENCY = ("turn_taking", "latency")  # the row whose per-turn samples bench.run saves as turn_latencies_ms


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
