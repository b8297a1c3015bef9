"""The soundloop benchmark: conversation scenarios, per-stage cost and load, for
soundloop and its baselines, in one invocation.

    python -m bench.run                       # both profiles, all systems, load test
    python -m bench.run --quick               # a few-minute subset
    python -m bench.run --smoke               # one scenario per category, light profile (CI)
    python -m bench.run --profile light --systems soundloop,naive --no-load

For each profile: soundloop runs as its real processes (stage servers + gateway,
as docker-compose runs them) and every scenario is one call through the public
gRPC API at real-time pace; then the load generator finds the most concurrent
callers it serves; then the naive sequential pipeline and Pipecat (when its
virtualenv exists) run the same scenarios on the same models. Everything lands
in one folder: results.json, report.md, latency_cdf.png, waterfall.png, load.png.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import pathlib
import platform
import subprocess
import time
from collections import Counter

from bench import load as load_test, report
from bench.outcome import Outcome
from bench.process_stats import ProcessStats
from bench.scenarios import Scenario, build
from bench.scoring import score, turn_latencies_ms
from bench.sources import RATE
from bench.systems import pipecat_system, soundloop_system
from soundloop.local_redis import local_redis_server
from soundloop.local_stack import local_stack
from soundloop.models import REPO_ROOT

SYSTEMS = ("soundloop", "naive", "pipecat")
LOAD_LEVELS = (1, 2, 3, 4, 6, 8, 12, 16)


def _log_progress(system: str):
    def log(scenario: Scenario, outcome: Outcome) -> None:
        first = next((t.first_audio_s for t in outcome.turns), None)
        end = scenario.speech_end_s
        after = "" if first is None or end is None else f" first reply {first - end:+.2f}s"
        print(f"  {system} {scenario.id}: {len(outcome.turns)} replies{after}"
              f"{' ERROR ' + outcome.error if outcome.error else ''}", flush=True)
    return log


def _warm_up(scenarios: list[Scenario]) -> Scenario:
    """A call made before measuring: first-call costs (allocations, caches) are not steady state."""
    return next((s for s in scenarios if s.category == "turn_taking"), scenarios[0])


def _audio_seconds(scenarios: list[Scenario], outcomes: list[Outcome]) -> float:
    by_id = {s.id: s for s in scenarios}
    return sum(o.call_s or len(by_id[o.id].audio) / RATE for o in outcomes if o.id in by_id)


def _system_result(scenarios: list[Scenario], outcomes: list[Outcome], resources: dict, **extra) -> dict:
    live = [s for s in scenarios if s.category != "offline"]
    audio_s = _audio_seconds(live, [o for o in outcomes if o.id in {s.id for s in live}])
    resources = dict(resources, caller_audio_s=round(audio_s, 1),
                     cpu_s_per_audio_s=round(resources["cpu_s_total"] / audio_s, 3) if audio_s else None)
    return {"scores": score(scenarios, outcomes), "resources": resources,
            "turn_latencies_ms": turn_latencies_ms(scenarios, outcomes),
            "outcomes": [o.as_json() for o in outcomes], **extra}


def run_soundloop(profile: str, scenarios: list[Scenario], load_levels: tuple[int, ...], load_turns: int,
                  log_dir: pathlib.Path) -> tuple[dict, dict | None]:
    with local_redis_server() as url, local_stack(profile, url, log_dir=str(log_dir)) as stack:
        address = stack.gateway_address
        stats = ProcessStats({name: p.pid for name, p in stack.processes.items()})
        asyncio.run(soundloop_system.run(address, _warm_up(scenarios)))  # first-call costs are not steady state
        stats.start()
        outcomes = soundloop_system.run_all(address, scenarios, _log_progress("soundloop"))
        usage = stats.stop()  # CPU over the scenarios only; the load test comes after
        load = load_test.capacity(address, load_levels, load_turns) if load_levels else None
    return _system_result(scenarios, outcomes, usage), load


def run_naive(profile: str, scenarios: list[Scenario]) -> dict:
    from bench.systems.naive_system import NaiveSystem

    system = NaiveSystem.load(profile)
    system.run(_warm_up(scenarios))
    stats = ProcessStats({"naive (one process)": os.getpid()})
    stats.start()
    log = _log_progress("naive")
    outcomes = []
    for scenario in scenarios:
        outcomes.append(system.run(scenario))
        log(scenario, outcomes[-1])
    result = _system_result(scenarios, outcomes, stats.stop())
    del system
    return result


def run_pipecat(profile: str, scenarios: list[Scenario], log_dir: pathlib.Path) -> dict:
    live = [s for s in scenarios if s.category != "offline"]
    outcomes, resources, facts = pipecat_system.run_all(profile, live, log_dir)
    outcomes += [Outcome(s.id, "pipecat", unsupported="offline tasks (Pipecat has no file-level API)")
                 for s in scenarios if s.category == "offline"]
    return _system_result(scenarios, outcomes, resources, facts=facts,
                          notes=f"Pipecat {facts.get('pipecat_version')}, turn detection "
                                f"{facts.get('turn_detection')}, TTS {facts.get('tts')}")


def _meta(args, scenarios: list[Scenario]) -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=REPO_ROOT).stdout.strip()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    return {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), "commit": commit,
            "machine": f"{os.cpu_count()} cores ({cpu}), {platform.system()}", "seed": args.seed, "quick": args.quick,
            "scenarios": len(scenarios), "per_category": dict(Counter(s.category for s in scenarios)),
            "real_speech_scenarios": sum(s.real_speech for s in scenarios),
            "telephony_scenarios": sum(s.telephony for s in scenarios)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", action="append", choices=("light", "default"),
                        help="repeatable; default: light and default")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated subset of " + ",".join(SYSTEMS))
    parser.add_argument("--quick", action="store_true", help="a few scenarios per category and a short load ramp")
    parser.add_argument("--smoke", action="store_true",
                        help="CI check: light profile, soundloop and naive, one scenario per category, N=1 load")
    parser.add_argument("--no-load", action="store_true", help="skip the concurrent-callers test")
    parser.add_argument("--load-levels", default="", help="comma-separated caller counts to try, in order")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", default="", help="comma-separated scenario id prefixes (debugging)")
    parser.add_argument("--out", type=pathlib.Path,
                        default=REPO_ROOT / "bench-out" / time.strftime("%Y%m%d-%H%M%S"))
    args = parser.parse_args(argv)
    if args.smoke:
        args.quick, args.profile, args.systems, args.load_levels = True, ["light"], "soundloop,naive", "1"
    profiles = args.profile or ["light", "default"]
    systems = [s for s in args.systems.split(",") if s]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown systems {sorted(unknown)}; known: {', '.join(SYSTEMS)}")
    levels = tuple(int(n) for n in args.load_levels.split(",") if n) or ((1, 2, 4) if args.quick else LOAD_LEVELS)
    load_turns = 1 if args.quick else 3

    scenarios = build(args.seed, quick=args.quick)
    if args.only:
        scenarios = [s for s in scenarios if s.id.startswith(tuple(args.only.split(",")))]
    if args.smoke:
        scenarios = [s for i, s in enumerate(scenarios) if i == 0 or s.category != scenarios[i - 1].category]
    args.out.mkdir(parents=True, exist_ok=True)
    # The labels travel with the results, so `bench.report --rescore` never has to rebuild audio.
    results = {"meta": _meta(args, scenarios), "scenarios": [s.meta for s in scenarios], "profiles": {}}
    print(f"{len(scenarios)} scenarios -> {args.out}", flush=True)
    for profile in profiles:
        entry = results["profiles"][profile] = {"systems": {}, "skipped": {}}
        log_dir = args.out / "logs" / profile
        log_dir.mkdir(parents=True, exist_ok=True)
        if "soundloop" in systems:
            print(f"[{profile}] soundloop", flush=True)
            entry["systems"]["soundloop"], entry["load"] = run_soundloop(
                profile, scenarios, () if args.no_load else levels, load_turns, log_dir)
            report.write(results, args.out)
        if "naive" in systems:
            print(f"[{profile}] naive baseline", flush=True)
            entry["systems"]["naive"] = run_naive(profile, scenarios)
            report.write(results, args.out)
        if "pipecat" in systems:
            why_not = pipecat_system.available()
            if why_not:
                entry["skipped"]["pipecat"] = why_not
            else:
                print(f"[{profile}] pipecat baseline", flush=True)
                try:
                    entry["systems"]["pipecat"] = run_pipecat(profile, scenarios, log_dir)
                except (RuntimeError, TimeoutError) as e:
                    entry["skipped"]["pipecat"] = str(e)
            report.write(results, args.out)
    report.write(results, args.out)
    print(f"report: {args.out / 'report.md'}", flush=True)
    return results


if __name__ == "__main__":
    main()
