"""Soak: N callers at real-time pace for M minutes through the public API, memory and latency
over time, to find leaks and slow drift a short benchmark cannot see.

    python -m bench.soak --profile light --callers 2 --minutes 10 [--out bench-out/soak]

Starts Redis and soundloop in process mode (every process of its own, so its memory is its
own), then each caller makes one call after another: a question from the benchmark's set, in
a rotating voice, answered, then hung up cleanly; so sessions open and close all the time, as
in a call center. Every 5 s it samples each process's resident memory and Redis's used memory.
Writes `soak.json` (every sample and turn) and `soak.png` (memory and voice-to-voice over time)
to --out, and prints the figures the faults issue asks for: RSS growth of every process after
warm-up, voice-to-voice p95 in the first and the last minute, Redis memory at start and end.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import pathlib
import tempfile
import threading
import time

import redis

from bench.load import _question
from bench.process_stats import cpu_seconds, rss_mb
from bench.scoring import summary
from bench.systems.soundloop_system import PCM16K
from soundloop.client import CallerScript, converse
from soundloop.local_redis import local_redis_server
from soundloop.local_stack import local_stack
from soundloop.v1 import interaction_pb2 as pb

SAMPLE_EVERY_S = 5.0
WARM_UP_S = 180.0  # lazy allocations, first replies, the LLM's KV snapshots (kept 2 min): the baseline after


@dataclasses.dataclass
class Turn:
    at_s: float  # when the call ended, from the soak's start
    voice_to_voice_s: float | None
    error: str = ""


class Sampler(threading.Thread):
    """Every SAMPLE_EVERY_S: RSS of each process, Redis used memory, the processes' CPU seconds."""

    def __init__(self, pids: dict[str, int], redis_url: str, started: float):
        super().__init__(daemon=True)
        self._pids, self._redis, self._t0 = pids, redis.Redis.from_url(redis_url), started
        self.samples: list[dict] = []
        self._halt = threading.Event()  # (Thread has its own _started and _stop)

    def run(self) -> None:
        while not self._halt.is_set():
            sample = {"at_s": round(time.monotonic() - self._t0, 1),
                      "redis_used_mb": round(self._redis.info("memory")["used_memory"] / 1e6, 3),
                      "redis_keys": self._redis.dbsize()}
            for name, pid in self._pids.items():
                sample[f"{name}_rss_mb"] = round(rss_mb(pid), 1)
                sample[f"{name}_cpu_s"] = round(cpu_seconds(pid), 1)
            self.samples.append(sample)
            self._halt.wait(SAMPLE_EVERY_S)

    def stop(self) -> None:
        self._halt.set()
        self.join(10)


async def call_after_call(address: str, index: int, started: float, until: float, turns: list[Turn]) -> None:
    """Caller `index`: one call after another until `until` (a question, its answer, hang up), each in `turns`."""
    await asyncio.sleep(1.3 * index)  # callers out of step
    n = index * 1000
    while time.monotonic() < until:
        audio, speech_end = _question(n)
        n += 1
        config = pb.SessionConfig(input_audio=PCM16K)
        try:
            record = await converse(address, config, CallerScript(audio, 16000, tail_s=10.0, stop_after_turns=1))
        except Exception as err:  # a broken call is a finding, not the end of the soak
            turns.append(Turn(time.monotonic() - started, None, f"{type(err).__name__}: {err}"[:200]))
            continue
        first = next((e.at for e in record.of("reply_audio")), None)
        turns.append(Turn(time.monotonic() - started, None if first is None else first - speech_end))


def figures(samples: list[dict], turns: list[Turn], processes: list[str]) -> dict:
    base = next((s for s in samples if s["at_s"] >= WARM_UP_S), samples[0])
    last = samples[-1]
    growth = {p: round(100 * (last[f"{p}_rss_mb"] - base[f"{p}_rss_mb"]) / base[f"{p}_rss_mb"], 1)
              for p in processes if base[f"{p}_rss_mb"]}
    end = max(t.at_s for t in turns) if turns else 0.0
    first_minute = [t.voice_to_voice_s * 1000 for t in turns if t.voice_to_voice_s is not None
                    and WARM_UP_S <= t.at_s < WARM_UP_S + 60]
    last_minute = [t.voice_to_voice_s * 1000 for t in turns if t.voice_to_voice_s is not None and t.at_s >= end - 60]
    return {"duration_s": last["at_s"], "calls": len(turns), "errors": sum(bool(t.error) for t in turns),
            "no_reply": sum(t.voice_to_voice_s is None and not t.error for t in turns),
            "rss_mb_after_warm_up": {p: base[f"{p}_rss_mb"] for p in processes},
            "rss_mb_end": {p: last[f"{p}_rss_mb"] for p in processes}, "rss_growth_pct": growth,
            "voice_to_voice_first_minute_ms": summary([v / 1000 for v in first_minute]),
            "voice_to_voice_last_minute_ms": summary([v / 1000 for v in last_minute]),
            "redis_used_mb": {"after_warm_up": base["redis_used_mb"], "end": last["redis_used_mb"],
                              "max": max(s["redis_used_mb"] for s in samples)}}


def plot(samples: list[dict], turns: list[Turn], processes: list[str], path: pathlib.Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (mem, lat) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    at = [s["at_s"] / 60 for s in samples]
    for p in processes:
        mem.plot(at, [s[f"{p}_rss_mb"] for s in samples], label=f"{p} RSS")
    mem.plot(at, [s["redis_used_mb"] for s in samples], label="Redis used", linestyle="--")
    mem.set_ylabel("MB")
    mem.legend(fontsize=8, ncol=3)
    mem.axvline(WARM_UP_S / 60, color="grey", linewidth=0.5)
    answered = [t for t in turns if t.voice_to_voice_s is not None]
    lat.scatter([t.at_s / 60 for t in answered], [t.voice_to_voice_s * 1000 for t in answered], s=8)
    lat.set_ylabel("voice-to-voice ms")
    lat.set_xlabel("minutes")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=("light", "default"), default="light")
    parser.add_argument("--callers", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--out", default="bench-out/soak")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with local_redis_server() as redis_url, tempfile.TemporaryDirectory() as logs, \
            local_stack(args.profile, redis_url, log_dir=logs) as stack:
        pids = {name: proc.pid for name, proc in stack.processes.items()}
        started = time.monotonic()
        sampler = Sampler(pids, redis_url, started)
        sampler.start()
        turns: list[Turn] = []

        async def run():
            until = started + args.minutes * 60
            await asyncio.gather(*(call_after_call(stack.gateway_address, i, started, until, turns)
                                   for i in range(args.callers)))
        asyncio.run(run())
        sampler.stop()
    processes = list(pids)
    result = {"profile": args.profile, "callers": args.callers, "minutes": args.minutes,
              "figures": figures(sampler.samples, turns, processes), "samples": sampler.samples,
              "turns": [dataclasses.asdict(t) for t in turns]}
    (out / "soak.json").write_text(json.dumps(result, indent=1))
    plot(sampler.samples, turns, processes, out / "soak.png")
    print(json.dumps(result["figures"], indent=1))


if __name__ == "__main__":
    main()
