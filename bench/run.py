"""The soundloop benchmark: conversation scenarios, per-stage cost and load, for
soundloop and its baselines, in one invocation.

    python -m bench.run                       # both profiles, all systems, load test
    python -m bench.run --quick               # a few-minute subset
    python -m bench.run --smoke               # one scenario per category, light profile, process mode (CI)
    python -m bench.run --profile light --systems soundloop,naive --no-load
    python -m bench.run --soundloop-modes process --load-modes process   # without Ray Serve

For each profile soundloop runs once per way it can run (--soundloop-modes, default both):
  serve    the Ray Serve app, as users deploy it: deploy/serve/soundloop*.yaml on a
           local Ray cluster (soundloop.serve_runner), results as system `soundloop`;
  process  the stage servers and gateway as plain processes, as docker-compose runs
           them (soundloop.local_stack), results as system `soundloop-process`.
Every scenario is one call through the public gRPC API at real-time pace. The
first call after the server reports SERVING is the fresh server's first call: it
is measured and reported on its own (`first_call`), and the scenarios measured
after it are the steady state. Then the load generator finds the most concurrent
callers the server takes (--load-modes; default the Serve path). Then the naive
sequential pipeline and Pipecat (when its virtualenv exists) run the same
scenarios on the same models. Everything lands in one folder: results.json,
report.md, latency_cdf.png, waterfall.png, load.png.

The Serve run happens in a child process: it is the Ray driver, and it sets its
own niceness to that of the Serve replicas (--client-nice) without touching the
rest of the run.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import pathlib
import platform
import shutil
import subprocess
import threading
import time
import urllib.request
from collections import Counter

from bench import load as load_test, process_stats, report, sound_bank, trace_tree
from bench.child_process import in_child
from bench.outcome import Outcome
from bench.process_stats import ProcessStats
from bench.scenarios import Scenario, build
from bench.scoring import first_call, score, turn_latencies_ms
from bench.sources import RATE
from bench.systems import pipecat_system, soundloop_system
from soundloop.local_redis import free_port, local_redis_server
from soundloop.local_stack import local_stack
from soundloop.models import REPO_ROOT
from soundloop.settings import load_settings
from soundloop.v1 import interaction_pb2 as pb

SYSTEMS = ("soundloop", "naive", "naive-whisper", "pipecat")
# The naive baseline also runs on the Whisper model each profile used before Moonshine.
OLD_WHISPER = {"light": "whisper-tiny.en", "default": "whisper-base"}
# soundloop's ways to run, and the system name each one's results go under: the deployed path keeps the name.
SOUNDLOOP_MODES = {"serve": "soundloop", "process": "soundloop-process"}
# Turn models a session can ask for (--turn-models): extra process-mode arms on the same server.
TURN_MODELS = {"rules": pb.TURN_MODEL_RULES, "learned": pb.TURN_MODEL_LEARNED}
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
    """The call made first, before the scenarios are measured: first-call costs (allocations, caches) are not
    steady state, so it is reported on its own (the fresh server's first call), not among the scenarios."""
    return next((s for s in scenarios if s.category == "turn_taking"), scenarios[0])


def _audio_seconds(scenarios: list[Scenario], outcomes: list[Outcome]) -> float:
    by_id = {s.id: s for s in scenarios}
    return sum(o.call_s or len(by_id[o.id].audio) / RATE for o in outcomes if o.id in by_id)


def _system_result(scenarios: list[Scenario], outcomes: list[Outcome], resources: dict,
                   warm_up: tuple[Scenario, Outcome] | None = None, **extra) -> dict:
    live = [s for s in scenarios if s.category != "offline"]
    audio_s = _audio_seconds(live, [o for o in outcomes if o.id in {s.id for s in live}])
    resources = dict(resources, caller_audio_s=round(audio_s, 1),
                     cpu_s_per_audio_s=round(resources["cpu_s_total"] / audio_s, 3) if audio_s else None)
    scores = score(scenarios, outcomes)
    if warm_up is not None:
        scenario, outcome = warm_up
        steady = scores["categories"]["turn_taking"]["latency"].get("p50_ms")
        extra["first_call"] = {**first_call(scenario, outcome, steady), "outcome": outcome.as_json()}
    return {"scores": scores, "resources": resources,
            "turn_latencies_ms": turn_latencies_ms(scenarios, outcomes),
            "outcomes": [o.as_json() for o in outcomes], **extra}


def _measure_soundloop(system: str, address: str, stats: ProcessStats, scenarios: list[Scenario],
                       load_levels: tuple[int, ...], load_turns: int, **extra) -> dict:
    """The fresh server's first call, then the scenarios (steady state), then the load ramp if asked."""
    warm = _warm_up(scenarios)
    first = asyncio.run(soundloop_system.run(address, warm))  # measured, and kept out of the steady state
    _log_progress(f"{system} (first call after start)")(warm, first)
    client = ProcessStats({"benchmark client": os.getpid()})
    stats.start()
    client.start()
    outcomes = soundloop_system.run_all(address, scenarios, _log_progress(system))
    # CPU over the scenarios only (the load test comes after); the client's own apart, not in the total.
    usage = dict(stats.stop(), client_cpu_s=client.stop()["cpu_s_total"])
    # Other work on the machine: Serve's replicas (nice 15) yield to any of it at nice 0, processes do not.
    extra["machine_load_avg"] = [round(x, 2) for x in os.getloadavg()]
    if load_levels:
        print(f"  {system}: load ramp", flush=True)
        extra["load"] = load_test.capacity(address, load_levels, load_turns)
    return _system_result(scenarios, outcomes, usage, warm_up=(warm, first), **extra)


def run_soundloop_process(profile: str, scenarios: list[Scenario], load_levels: tuple[int, ...], load_turns: int,
                          log_dir: pathlib.Path, turn_models: tuple[str, ...] = (),
                          telemetry: bool = False) -> dict[str, dict]:
    """Process mode under the server's default turn model, then, on the same server, each of
    `turn_models` chosen per session (TurnDetection.model): systems `soundloop-process[-<model>]`.
    With `telemetry`, every process exports its spans to an OTLP receiver in this process and serves
    /metrics (scraped once at the end): system `soundloop-process-telemetry`, the cost of observing."""
    name = SOUNDLOOP_MODES["process"] + ("-telemetry" if telemetry else "")
    with contextlib.ExitStack() as observing:
        env, received = {}, None
        if telemetry:
            received, port = observing.enter_context(trace_tree.receiving())
            env = trace_tree.exporter_env(port)
        url = observing.enter_context(local_redis_server())
        stack = observing.enter_context(local_stack(profile, url, log_dir=str(log_dir), extra_env=env,
                                                    metrics=telemetry))
        stats = ProcessStats({n: p.pid for n, p in stack.processes.items()})
        default = load_settings(profile=profile).decider.turn_model  # the server's, for unspecified sessions
        scrapes = observing.enter_context(_scraping(stack.metrics_ports)) if telemetry else None
        results = {name: _measure_soundloop(name, stack.gateway_address, stats, scenarios,
                                            load_levels, load_turns, mode="process", default_turn_model=default)}
        if received is not None:
            results[name]["telemetry"] = {"spans_received": len(received.spans), "metrics_scrapes": len(scrapes)}
        for model in turn_models:
            arm = f"{name}-{model}"
            print(f"[{profile}] {arm} (process mode, every session asks for the {model} turn model)", flush=True)
            stats.start()
            outcomes = soundloop_system.run_all(stack.gateway_address, scenarios, _log_progress(arm),
                                                TURN_MODELS[model])
            results[arm] = _system_result(scenarios, outcomes, stats.stop(), mode="process", turn_model=model)
        return results


@contextlib.contextmanager
def _scraping(ports: dict[str, int], every_s: float = 5.0):
    """Reads every process's /metrics every `every_s`, as Prometheus would; yields the list of scrapes done."""
    done: list[float] = []
    stop = threading.Event()

    def scrape() -> None:
        while not stop.wait(every_s):
            for port in ports.values():
                with contextlib.suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                                                          timeout=2) as response:
                    response.read()
            done.append(time.monotonic())
    worker = threading.Thread(target=scrape, name="metrics-scraper", daemon=True)
    worker.start()
    try:
        yield done
    finally:
        stop.set()
        worker.join(5)


def run_soundloop_serve(profile: str, scenarios: list[Scenario], load_levels: tuple[int, ...], load_turns: int,
                        log_dir: pathlib.Path, client_nice: str = "match") -> dict:
    """The Serve app, measured from a child process (the Ray driver; its niceness is its own)."""
    return in_child(_serve_measurement, profile, scenarios, load_levels, load_turns, log_dir, client_nice)


def _serve_measurement(profile: str, scenarios: list[Scenario], load_levels: tuple[int, ...], load_turns: int,
                       log_dir: pathlib.Path, client_nice: str) -> dict:
    from soundloop.serve_runner import serve_app

    system = SOUNDLOOP_MODES["serve"]
    with local_redis_server() as url, serve_app(profile, url, free_port(),
                                                progress=lambda m: print(f"  {system}: {m}", flush=True)) as address:
        # Serve's cost is every process of the Ray cluster (replicas, controller, proxy, raylet, GCS, agents),
        # as the processes' cost is all five servers'; Redis is left out in both.
        # Idle pool workers (`ray::IDLE`) come and go and serve nothing: left out.
        ray_pids = {name: pid for name, pid in process_stats.descendants(os.getpid(), skip=("redis-server",)).items()
                    if not name.startswith("IDLE")}
        replica_nice = process_stats.serve_replica_nice(ray_pids.values())
        # Ray starts workers, so every replica, at nice 15 (worker_niceness); in process mode client and servers
        # share nice 0. The client matches the replicas, or whenever it wants a core it takes it from them.
        # Measured (2 cores, 4 turn-taking calls + N<=2): the client used ~4 % of a core and keep vs match moved
        # latency less than the machine's other work did; match is the fair one: no priority process mode lacks.
        nice = process_stats.match_niceness(replica_nice) if client_nice == "match" else \
            process_stats.nice_of(os.getpid())
        print(f"  {system}: {len(ray_pids)} Ray processes, replicas at nice {replica_nice}, client at nice {nice}",
              flush=True)
        try:
            return _measure_soundloop(system, address, ProcessStats(ray_pids), scenarios, load_levels, load_turns,
                                      mode="serve", nice={"serve_replicas": replica_nice, "client": nice})
        finally:
            _keep_serve_logs(log_dir)


def _keep_serve_logs(log_dir: pathlib.Path) -> None:
    """Serve's replica, controller and proxy logs next to the process mode's stage logs."""
    try:
        import ray

        logs = pathlib.Path(ray._private.worker._global_node.get_logs_dir_path()) / "serve"
        shutil.copytree(logs, log_dir / "serve", dirs_exist_ok=True)
    except Exception as e:  # a missing log is no reason to lose the measurement
        print(f"  (Serve logs not copied: {e})", flush=True)


def run_naive(profile: str, scenarios: list[Scenario], asr_model: str = "") -> dict:
    from bench.systems.naive_system import NaiveSystem

    system = NaiveSystem.load(profile, asr_model)
    warm = _warm_up(scenarios)
    first = system.run(warm)
    stats = ProcessStats({"naive (one process)": os.getpid()})
    stats.start()
    log = _log_progress("naive")
    outcomes = []
    for scenario in scenarios:
        outcomes.append(system.run(scenario))
        log(scenario, outcomes[-1])
    result = _system_result(scenarios, outcomes, stats.stop(), warm_up=(warm, first))
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
            "soundloop_modes": args.soundloop_modes, "load_modes": args.load_modes,
            "real_speech_scenarios": sum(s.real_speech for s in scenarios),
            "telephony_scenarios": sum(s.telephony for s in scenarios)}


def _modes(parser: argparse.ArgumentParser, value: str, flag: str) -> list[str]:
    modes = [m for m in value.split(",") if m]
    unknown = set(modes) - set(SOUNDLOOP_MODES)
    if unknown:
        parser.error(f"{flag}: unknown modes {sorted(unknown)}; known: {', '.join(SOUNDLOOP_MODES)}")
    return modes


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", action="append", choices=("light", "default"),
                        help="repeatable; default: light and default")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated subset of " + ",".join(SYSTEMS))
    parser.add_argument("--soundloop-modes", default="serve,process",
                        help="comma-separated, in run order: serve (Ray Serve, system `soundloop`) and/or process "
                             "(plain processes, system `soundloop-process`); default: both")
    parser.add_argument("--load-modes", default=None,
                        help="comma-separated soundloop modes that get the load ramp; default: serve when it runs "
                             "(the path users deploy), else process")
    parser.add_argument("--client-nice", choices=("match", "keep"), default="match",
                        help="Serve runs: match sets the benchmark client (driver and load generator) to the Serve "
                             "replicas' niceness (Ray starts them at 15); keep leaves it as started")
    parser.add_argument("--quick", action="store_true", help="a few scenarios per category and a short load ramp")
    parser.add_argument("--smoke", action="store_true",
                        help="CI check: light profile, soundloop (process mode) and naive, one scenario per category, "
                             "N=1 load")
    parser.add_argument("--no-load", action="store_true", help="skip the concurrent-callers test")
    parser.add_argument("--load-levels", default="", help="comma-separated caller counts to try, in order")
    parser.add_argument("--telemetry-arm", action="store_true",
                        help="process mode again with OTLP traces (to a receiver in this process) and Prometheus "
                             "metrics on: system soundloop-process-telemetry, to measure what observing costs")
    parser.add_argument("--turn-models", default="",
                        help="comma-separated subset of rules,learned: after the process-mode run, the same "
                             "server is called again with every session asking for that turn model "
                             "(systems soundloop-process-<model>)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", default="", help="comma-separated scenario id prefixes (debugging)")
    parser.add_argument("--out", type=pathlib.Path,
                        default=REPO_ROOT / "bench-out" / time.strftime("%Y%m%d-%H%M%S"))
    args = parser.parse_args(argv)
    if args.smoke:
        # Process mode only: Ray Serve's start-up (~50 s on 2 cores, loaded) would double CI's time for a smoke.
        args.quick, args.profile, args.systems, args.load_levels = True, ["light"], "soundloop,naive", "1"
        args.soundloop_modes = "process"
    profiles = args.profile or ["light", "default"]
    systems = [s for s in args.systems.split(",") if s]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown systems {sorted(unknown)}; known: {', '.join(SYSTEMS)}")
    modes = _modes(parser, args.soundloop_modes, "--soundloop-modes") if "soundloop" in systems else []
    if args.load_modes is None:
        args.load_modes = next((m for m in SOUNDLOOP_MODES if m in modes), "")
    load_modes = [] if args.no_load else _modes(parser, args.load_modes, "--load-modes")
    if set(load_modes) - set(modes):
        parser.error(f"--load-modes {args.load_modes}: only modes that run get a load ramp "
                     f"(--soundloop-modes {args.soundloop_modes})")
    turn_models = tuple(m for m in args.turn_models.split(",") if m)
    if set(turn_models) - set(TURN_MODELS) or (turn_models and "process" not in modes):
        parser.error(f"--turn-models {args.turn_models}: a subset of {','.join(TURN_MODELS)}, with process mode")
    levels = tuple(int(n) for n in args.load_levels.split(",") if n) or ((1, 2, 4) if args.quick else LOAD_LEVELS)
    load_turns = 1 if args.quick else 3

    sound_bank.fetch()  # the sound category's recordings, once per machine
    scenarios = build(args.seed, quick=args.quick)
    if args.only:
        scenarios = [s for s in scenarios if s.id.startswith(tuple(args.only.split(",")))]
    if args.smoke:
        scenarios = [s for i, s in enumerate(scenarios) if i == 0 or s.category != scenarios[i - 1].category]
    args.out.mkdir(parents=True, exist_ok=True)
    # The labels travel with the results, so `bench.report --rescore` never has to rebuild audio.
    results = {"meta": _meta(args, scenarios), "scenarios": [s.meta for s in scenarios], "profiles": {}}
    print(f"{len(scenarios)} scenarios -> {args.out}", flush=True)
    failed: list[str] = []
    for profile in profiles:
        entry = results["profiles"][profile] = {"systems": {}, "skipped": {}}
        log_dir = args.out / "logs" / profile
        log_dir.mkdir(parents=True, exist_ok=True)
        for mode in modes:
            name = SOUNDLOOP_MODES[mode]
            ramp = levels if mode in load_modes else ()
            print(f"[{profile}] {name} ({mode} mode)", flush=True)
            try:
                if mode == "serve":
                    entry["systems"][name] = run_soundloop_serve(profile, scenarios, ramp, load_turns, log_dir,
                                                                 args.client_nice)
                else:
                    entry["systems"].update(run_soundloop_process(profile, scenarios, ramp, load_turns, log_dir,
                                                                  turn_models))
                    if args.telemetry_arm:  # the same again with traces and metrics exported
                        print(f"[{profile}] {name}-telemetry (process mode, traces and metrics on)", flush=True)
                        entry["systems"].update(run_soundloop_process(profile, scenarios, (), load_turns, log_dir,
                                                                      telemetry=True))
            except (RuntimeError, TimeoutError) as e:  # the other mode and the baselines still run
                print(f"[{profile}] {name} FAILED: {e}", flush=True)
                entry["skipped"][name] = f"failed: {str(e).strip().splitlines()[-1]}"
                failed.append(f"{profile} {name}")
            report.write(results, args.out)
        if "naive" in systems:
            print(f"[{profile}] naive baseline", flush=True)
            entry["systems"]["naive"] = run_naive(profile, scenarios)
            report.write(results, args.out)
        if "naive-whisper" in systems:
            print(f"[{profile}] naive baseline on {OLD_WHISPER[profile]}", flush=True)
            entry["systems"]["naive-whisper"] = run_naive(profile, scenarios, OLD_WHISPER[profile])
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
    if failed:
        raise SystemExit(f"bench.run: soundloop failed to run: {', '.join(failed)} (see the log above)")
    return results


if __name__ == "__main__":
    main()
