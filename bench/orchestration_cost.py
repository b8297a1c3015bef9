"""What orchestration costs per live caller: the gateway, Ray Serve's machinery, Redis and gRPC, as a share
of one core, apart from the models' own work.

    python -m bench.orchestration_cost [--profile light] [--callers 2] [--seconds 120] [--idle-seconds 40]
                                       [--modes process,serve,process-every-chunk] [--out bench-out/orchestration]

The real-time issue asks that the gateway, Serve handles, Redis and gRPC together cost at most 3 % of one
core per live caller. Each mode (process: the five servers as plain processes; serve: the Serve app as
`soundloop serve` runs it; process-every-chunk: process mode writing each session's progress to Redis
every 100 ms chunk, as the gateway did before session.progress_every_ms) is measured in the same
invocation, on the same callers:

1. one warm-up call per caller (not counted);
2. an idle window with no caller: what every process costs on its own (Ray's agents, health checks);
3. a busy window: N callers, each making one call after another (--workload questions: a spoken question,
   its answer, hang up, as in bench.soak, so sessions open and close all the time; --workload silence:
   30 s calls of silence in 20 ms frames, the floor every live call pays).

Every process's CPU seconds are read from /proc at each window's edges. A process's cost per live caller
is (busy rate - idle rate) / N, in % of one core. Orchestration is the gateway(s), redis-server and, under
Serve, every Ray process that is not a stage replica (controller, proxy, raylet, GCS, agents): that is the
figure held against the 3 %. What Serve's request path costs inside the stage replicas (the handle's
receiving side) cannot be read from /proc apart from the models' work, so it is estimated as the stage
replicas' per-caller CPU under Serve minus the same stages' as plain processes, on the same calls; the
caller side of a handle call is in the Gateway replica's figure. gRPC's cost inside a stage process is
in its stage figure in both modes (each stage is one gRPC or handle call per 100 ms chunk).

Writes `orchestration.json` and `orchestration.md` to --out, and prints the table.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import tempfile
import time

import numpy as np

from bench import process_stats
from bench.child_process import in_child
from bench.scoring import summary
from bench.soak import Turn, call_after_call
from bench.systems.soundloop_system import PCM16K
from soundloop.client import CallerScript, converse
from soundloop.local_redis import free_port, local_redis_server
from soundloop.local_stack import local_stack
from soundloop.v1 import interaction_pb2 as pb

GOAL_PCT = 3.0
STAGES = ("encoder", "decider", "llm", "tts")


def role(mode: str, name: str) -> str:
    """`stage`, `gateway`, `redis` or `serve` (Ray's and Serve's own processes) for a process name."""
    base = name.split("#")[0]
    if base.startswith("redis-server"):
        return "redis"
    if base.lower() == "gateway":
        return "gateway"
    if base.lower() in STAGES:
        return "stage"
    return "serve" if mode == "serve" else "other"


def per_caller_pct(idle: dict[str, float], busy: dict[str, float], idle_s: float, busy_s: float,
                   callers: int) -> dict[str, float]:
    """Each process's CPU above its idle rate, per live caller, in % of one core."""
    return {name: round(100 * (busy[name] / busy_s - idle.get(name, 0.0) / idle_s) / callers, 2) for name in busy}


def totals(mode: str, pct: dict[str, float]) -> dict[str, float]:
    by_role: dict[str, float] = {}
    for name, value in pct.items():
        kind = role(mode, name)
        by_role[kind] = round(by_role.get(kind, 0.0) + value, 2)
    by_role["orchestration"] = round(sum(v for k, v in by_role.items() if k in ("gateway", "redis", "serve")), 2)
    return by_role


async def silent_calls(address: str, index: int, started: float, until: float, turns: list[Turn]) -> None:
    """Caller `index` streams silence in 20 ms frames until `until`, in calls of at most 30 s: the floor of
    a live call (every frame read, every 100 ms chunk analysed and saved) with no speech or reply."""
    await asyncio.sleep(0.13 * index)
    while (left := until - time.monotonic()) > 1.0:
        script = CallerScript(np.zeros(int(16000 * min(30.0, left)), np.float32), 16000, tail_s=0.0,
                              stop_after_turns=None)
        try:
            await converse(address, pb.SessionConfig(input_audio=PCM16K), script)
            turns.append(Turn(time.monotonic() - started, None))
        except Exception as err:
            turns.append(Turn(time.monotonic() - started, None, f"{type(err).__name__}: {err}"[:200]))


WORKLOADS = {"questions": call_after_call, "silence": silent_calls}


def _window(pids: dict[str, int], seconds: float, address: str | None, callers: int,
            workload: str) -> tuple[dict, list[Turn]]:
    """CPU seconds of each process over `seconds`, with `callers` calling `address` (none if 0)."""
    stats = process_stats.ProcessStats(pids)
    turns: list[Turn] = []
    stats.start()
    started = time.monotonic()
    if callers:
        until = started + seconds
        caller = WORKLOADS[workload]

        async def run() -> None:
            await asyncio.gather(*(caller(address, i, started, until, turns) for i in range(callers)))
        asyncio.run(run())
    # A call still running at `until` ends on its own; the window is the time actually measured.
    time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    elapsed = time.monotonic() - started
    return {"cpu_s": stats.stop()["cpu_s"], "seconds": round(elapsed, 1)}, turns


def _warm_up(address: str, callers: int) -> None:
    turns: list[Turn] = []

    async def run() -> None:
        now = time.monotonic()  # caller i starts 1.3 i s in: each makes one call
        until = now + 1.3 * callers
        await asyncio.gather(*(call_after_call(address, 100 + i, now, until, turns) for i in range(callers)))
    asyncio.run(run())


def measure(mode: str, pids: dict[str, int], address: str, callers: int, busy_s: float, idle_s: float,
            workload: str) -> dict:
    _warm_up(address, callers)
    idle, _ = _window(pids, idle_s, None, 0, workload)
    busy, turns = _window(pids, busy_s, address, callers, workload)
    names = [n for n in busy["cpu_s"] if n in idle["cpu_s"]]  # processes alive in both windows
    pct = per_caller_pct({n: idle["cpu_s"][n] for n in names}, {n: busy["cpu_s"][n] for n in names},
                         idle["seconds"], busy["seconds"], callers)
    v2v = [t.voice_to_voice_s for t in turns if t.voice_to_voice_s is not None]
    return {"mode": mode, "workload": workload, "callers": callers, "idle": idle, "busy": busy,
            "idle_pct_of_core": {n: round(100 * idle["cpu_s"][n] / idle["seconds"], 2) for n in names},
            "per_caller_pct_of_core": pct, "per_caller_by_role": totals(mode, pct),
            "calls": len(turns), "errors": [t.error for t in turns if t.error],
            "voice_to_voice_ms": summary(v2v)}


def _redis_pid() -> int:
    return next(pid for name, pid in process_stats.descendants(os.getpid()).items() if name.startswith("redis"))


def run_process(profile: str, callers: int, busy_s: float, idle_s: float, workload: str,
                mode: str = "process", extra_env: dict[str, str] | None = None) -> dict:
    with local_redis_server() as url, tempfile.TemporaryDirectory() as logs, \
            local_stack(profile, url, log_dir=logs, extra_env=extra_env) as stack:
        pids = {name: proc.pid for name, proc in stack.processes.items()}
        pids["redis-server"] = _redis_pid()
        return measure(mode, pids, stack.gateway_address, callers, busy_s, idle_s, workload)


def run_process_every_chunk(profile: str, callers: int, busy_s: float, idle_s: float, workload: str) -> dict:
    return run_process(profile, callers, busy_s, idle_s, workload, "process-every-chunk",
                       {"SOUNDLOOP_SESSION__PROGRESS_EVERY_MS": "0"})


def _serve(profile: str, callers: int, busy_s: float, idle_s: float, workload: str) -> dict:
    from soundloop.serve_runner import serve_app

    with local_redis_server() as url, serve_app(profile, url, free_port()) as address:
        # Every process of the local Ray cluster and Redis; idle pool workers come and go and serve nothing.
        pids = {n: p for n, p in process_stats.descendants(os.getpid()).items() if not n.startswith("IDLE")}
        # The callers run at the replicas' niceness, as in bench.run: no priority that process mode lacks.
        process_stats.match_niceness(process_stats.serve_replica_nice(pids.values()))
        return measure("serve", pids, address, callers, busy_s, idle_s, workload)


def run_serve(profile: str, callers: int, busy_s: float, idle_s: float, workload: str) -> dict:
    return in_child(_serve, profile, callers, busy_s, idle_s, workload)


def serve_handle_estimate(serve: dict, process: dict) -> dict[str, float]:
    """Per stage: its replicas' per-caller CPU under Serve minus its process's, in % of one core."""
    def stage_sums(result: dict) -> dict[str, float]:
        sums: dict[str, float] = {}
        for name, value in result["per_caller_pct_of_core"].items():
            if role(result["mode"], name) == "stage":
                stage = name.split("#")[0].lower()
                sums[stage] = sums.get(stage, 0.0) + value
        return sums
    under_serve, as_processes = stage_sums(serve), stage_sums(process)
    return {s: round(under_serve[s] - as_processes[s], 2) for s in under_serve if s in as_processes}


def report(results: dict[str, dict], profile: str, workload: str) -> str:
    lines = [f"# Orchestration cost per live caller ({profile} profile, {workload} workload)", "",
             "% of one core per live caller, above each process's idle rate (goal: orchestration <= "
             f"{GOAL_PCT:g} %).", "",
             "| mode | callers | calls (errors) | voice-to-voice p50 / p95 ms | gateway | Redis | Ray / Serve "
             "processes | orchestration | stages (models, their gRPC) |", "|---|---|---|---|---|---|---|---|---|"]
    for mode, r in results.items():
        t, v = r["per_caller_by_role"], r["voice_to_voice_ms"]
        lines.append(f"| {mode} | {r['callers']} | {r['calls']} ({len(r['errors'])}) | {v.get('p50_ms')} / "
                     f"{v.get('p95_ms')} | {t.get('gateway', 0):.2f} | {t.get('redis', 0):.2f} | "
                     f"{t.get('serve', 0):.2f} | **{t['orchestration']:.2f}** | {t.get('stage', 0):.2f} |")
    lines += ["", "Per process (% of one core: idle, and per live caller above idle):", ""]
    for mode, r in results.items():
        cells = ", ".join(f"{n} {r['idle_pct_of_core'][n]:.1f} / {p:+.2f}"
                          for n, p in sorted(r["per_caller_pct_of_core"].items(), key=lambda kv: -abs(kv[1])))
        lines.append(f"- {mode}: {cells}")
    if "serve" in results and "process" in results:
        estimate = serve_handle_estimate(results["serve"], results["process"])
        lines += ["", "Serve's request path inside the stage replicas, estimated (stage replicas under Serve minus "
                  "the same stages as processes, per caller, % of one core): "
                  + ", ".join(f"{s} {v:+.2f}" for s, v in estimate.items())
                  + f"; sum {sum(estimate.values()):+.2f}."]
    for mode, r in results.items():
        verdict = "met" if r["per_caller_by_role"]["orchestration"] <= GOAL_PCT else "**not met**"
        lines.append(f"- {mode}: orchestration {r['per_caller_by_role']['orchestration']:.2f} % of a core per "
                     f"caller (goal {GOAL_PCT:g} %): {verdict}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=("light", "default"), default="light")
    parser.add_argument("--callers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=120.0, help="busy window")
    parser.add_argument("--idle-seconds", type=float, default=40.0)
    parser.add_argument("--modes", default="process,serve",
                        help="comma-separated: process, serve, process-every-chunk")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="questions",
                        help="questions: call after call, each a spoken question and its answer; silence: 20 ms "
                             "frames of silence, the per-frame and per-chunk floor")
    parser.add_argument("--out", default="bench-out/orchestration")
    args = parser.parse_args(argv)
    runners = {"process": run_process, "serve": run_serve, "process-every-chunk": run_process_every_chunk}
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in runners]
    if unknown or args.callers < 1:
        parser.error(f"--modes takes {', '.join(runners)} (got {unknown}); --callers at least 1")
    results = {}
    for mode in modes:
        print(f"[{args.profile}] {mode}: {args.callers} callers, idle {args.idle_seconds:g} s, "
              f"busy {args.seconds:g} s", flush=True)
        results[mode] = runners[mode](args.profile, args.callers, args.seconds, args.idle_seconds, args.workload)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = report(results, args.profile, args.workload)
    document = {"profile": args.profile, "workload": args.workload, "results": results}
    (out / "orchestration.json").write_text(json.dumps(document, indent=1))
    (out / "orchestration.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
