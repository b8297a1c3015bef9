"""Load generator: N concurrent callers at real-time pace through the public gRPC API.

Each caller asks `turns_per_caller` questions in a row (one call each, synthetic
voices, callers start 0.5 s apart so their turns do not line up by accident).
Every call asks for one decision event per processed chunk, so the client can
check that the server processed all the audio it sent: a call whose last
processed offset falls short of the audio sent by more than `DROP_SLACK_S`
counts as dropped audio, as does a call the server refused or broke.

`capacity` raises N until p95 voice-to-voice exceeds the target or audio is
dropped, runs one level more (so the curve shows how it fails, not only where),
and reports every level it ran, so latency against N can be plotted. Each
level's questions are synthesised before its first call: the caller voices cost
CPU that would otherwise land in the middle of the other callers' streams.
"""
from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Callable

import grpc
import numpy as np

from bench.scenarios import LEAD_S, QUESTIONS
from bench.scoring import summary
from bench.sources import RATE, VOICES, silence, speak
from bench.systems.soundloop_system import PCM16K
from soundloop.client import CallerScript, converse
from soundloop.v1 import interaction_pb2 as pb

DROP_SLACK_S = 0.25
TARGET_P95_S = 1.5


@dataclasses.dataclass
class CallResult:
    voice_to_voice_s: float | None
    dropped_audio_s: float
    error: str | None = None


def _question(i: int) -> tuple[np.ndarray, float]:
    speech = speak(QUESTIONS[i % len(QUESTIONS)], VOICES[i % len(VOICES)])
    return np.concatenate([silence(LEAD_S), speech, silence(0.3)]), LEAD_S + len(speech) / RATE


async def _call(address: str, question: tuple[np.ndarray, float]) -> CallResult:
    audio, speech_end = question
    config = pb.SessionConfig(input_audio=PCM16K, decision_events=pb.DECISION_EVENTS_ALL)
    try:
        record = await converse(address, config, CallerScript(audio, RATE, tail_s=10.0, stop_after_turns=1))
    except grpc.aio.AioRpcError as e:
        return CallResult(None, 0.0, f"{e.code().name}: {e.details()}")
    first = next((e.at for e in record.of("reply_audio")), None)
    processed = max((e.event.audio_offset.seconds + e.event.audio_offset.nanos / 1e9
                     for e in record.of("decision")), default=0.0)
    return CallResult(None if first is None else first - speech_end, max(0.0, record.audio_sent_s - processed))


async def _level(address: str, callers: int, turns_per_caller: int) -> list[CallResult]:
    questions = [_question(i) for i in range(callers * turns_per_caller)]  # before the clock starts

    async def caller(c: int) -> list[CallResult]:
        await asyncio.sleep(0.5 * c)
        return [await _call(address, questions[c * turns_per_caller + t]) for t in range(turns_per_caller)]
    return [r for rs in await asyncio.gather(*(caller(c) for c in range(callers))) for r in rs]


def run_level(address: str, callers: int, turns_per_caller: int) -> dict:
    results = asyncio.run(_level(address, callers, turns_per_caller))
    latencies = [r.voice_to_voice_s for r in results if r.voice_to_voice_s is not None]
    dropped = [r for r in results if r.error or r.dropped_audio_s > DROP_SLACK_S]
    return {"callers": callers, "calls": len(results), "voice_to_voice": summary(latencies),
            "no_reply": sum(r.voice_to_voice_s is None for r in results), "calls_with_dropped_audio": len(dropped),
            "max_unprocessed_s": round(max((r.dropped_audio_s for r in results), default=0.0), 3),
            "errors": sorted({r.error for r in results if r.error})}


def passes(level: dict, target_p95_s: float = TARGET_P95_S) -> bool:
    p95 = level["voice_to_voice"].get("p95_ms")
    return (p95 is not None and p95 <= target_p95_s * 1000 and level["calls_with_dropped_audio"] == 0
            and level["no_reply"] == 0)


def capacity(address: str, levels: tuple[int, ...], turns_per_caller: int, log=print,
             run: Callable[[str, int, int], dict] = run_level) -> dict:
    """Runs the levels in turn, up to one level past the first that fails the target (when that was the last
    level given, one more with half as many callers again). The capacity (`max_callers`) is the largest N of the
    unbroken run of passing levels from the start: a level after a failure that happens to pass does not count."""
    runs: list[dict] = []
    todo = list(levels)
    while todo:
        n = todo.pop(0)
        level = run(address, n, turns_per_caller)
        level["passes"] = passes(level)
        runs.append(level)
        log(f"  load N={n}: p95 {level['voice_to_voice'].get('p95_ms')} ms, "
            f"dropped {level['calls_with_dropped_audio']}, no reply {level['no_reply']}")
        failures = sum(not r["passes"] for r in runs)
        if failures == 1 and not level["passes"]:
            todo = todo[:1] or [n + max(1, n // 2)]  # the one level past the first failure
        elif failures:
            break
    passing = [r["callers"] for r in itertools.takewhile(lambda r: r["passes"], runs)]
    return {"target_p95_ms": TARGET_P95_S * 1000, "max_callers": max(passing, default=0), "levels": runs}
