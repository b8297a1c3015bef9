"""Admission and fairness: do the callers a gateway admitted keep their latency when someone pushes?

    python -m bench.admission [--profile light] [--callers 2] [--turns 6]

One soundloop in process mode (light profile by default), its session cap set to `callers` + 1.
The same `callers` callers (bench.load: questions at real-time pace, one call each) run five
times, in one invocation, each time beside something else:
1. nothing (the baseline);
2. one more caller streaming a long spoken clip at real time (what any third caller costs);
3. the same caller sending it at 10x real time: the gateway reads it at real-time pace past
   `max_ahead_s`, so this should cost the others no more than phase 2 (its achieved pace is reported);
4. the gateway full (one more call holds the last slot) and a new call every 0.25 s, each refused:
   how long a refusal takes;
5. offline Transcribe of 60 s clips back to back on the same encoder.
Reports voice-to-voice p50/p95 of the admitted callers per phase, its ratio to the baseline, and
the 10x phase against the real-time one.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

import grpc
import numpy as np

from bench.load import _level
from bench.scoring import summary
from bench.sources import RATE, VOICES, silence, speak
from bench.systems.soundloop_system import PCM16K
from soundloop.audio import codec
from soundloop.client import CallerScript, channel, converse
from soundloop.local_redis import local_redis_server
from soundloop.local_stack import local_stack
from soundloop.v1 import audio_pb2, interaction_pb2 as pb, interaction_pb2_grpc

STORY = ("The old lighthouse keeper climbed the stairs every evening, counted the ships on the horizon, "
         "wrote their names in a worn notebook and waited for the morning fog to lift from the harbour.")


def _long_clip(seconds: float) -> np.ndarray:
    speech = np.concatenate([np.concatenate([speak(STORY, voice), silence(0.5)]) for voice in VOICES])
    return np.tile(speech, int(np.ceil(seconds * RATE / len(speech))))[:int(seconds * RATE)]


async def _latencies(address: str, callers: int, turns: int) -> dict:
    results = await _level(address, callers, turns)
    return {"voice_to_voice": summary([r.voice_to_voice_s for r in results if r.voice_to_voice_s is not None]),
            "errors": sorted({r.error for r in results if r.error}),
            "no_reply": sum(r.voice_to_voice_s is None for r in results)}


async def _sender(address: str, clip: np.ndarray, speed: float, stop: asyncio.Event) -> dict:
    """Streams `clip` asking for `speed` x real time; returns the pace it achieved."""
    started = time.monotonic()
    record = await converse(address, pb.SessionConfig(input_audio=PCM16K),
                            CallerScript(clip, RATE, tail_s=0.0, stop_after_turns=None), speed=speed)
    wall = time.monotonic() - started
    stop.set()
    return {"audio_s": round(record.audio_sent_s, 1), "wall_s": round(wall, 1),
            "achieved_speed": round(record.audio_sent_s / wall, 2),
            "errors": [e.event.error.code for e in record.of("error")]}


async def _hold(address: str, release: asyncio.Event) -> None:
    """Keeps one session open (silence) until `release`."""
    async def requests():
        yield pb.ConverseRequest(config=pb.SessionConfig(input_audio=PCM16K))
        frame = b"\x00\x00" * 320
        while not release.is_set():
            yield pb.ConverseRequest(audio=pb.AudioChunk(data=frame))
            await asyncio.sleep(0.02)
        yield pb.ConverseRequest(end_of_input=pb.EndOfInput())
    async with channel(address) as ch:
        async for _ in interaction_pb2_grpc.InteractionStub(ch).Converse(requests()):
            pass


async def _refusals(address: str, until: asyncio.Event) -> list[tuple[float, str]]:
    """A new call every 0.25 s while `until` is unset: (seconds to the refusal, status) of each."""
    out = []
    # No audio: an attempt let in by a caller's gap between calls ends as soon as it opens instead of
    # holding a slot a caller needs. (converse waits for the session to open before anything after the
    # config, so a refusal reaches it as sent: soundloop/client.py.)
    while not until.is_set():
        started = time.monotonic()
        try:
            await converse(address, pb.SessionConfig(input_audio=PCM16K),
                           CallerScript(np.zeros(0, np.float32), RATE, tail_s=0.0, stop_after_turns=None))
            out.append((time.monotonic() - started, "OK"))
        except grpc.aio.AioRpcError as err:
            out.append((time.monotonic() - started, err.code().name))
        await asyncio.sleep(0.25)
    return out


async def _transcribe_loop(address: str, clip: np.ndarray, stop: asyncio.Event) -> list[float]:
    fmt = codec.Format(audio_pb2.AUDIO_ENCODING_PCM16LE, RATE)
    request = pb.TranscribeRequest(audio_format=fmt.to_proto(), audio=codec.encode(fmt, clip))
    took = []
    async with channel(address) as ch:
        stub = interaction_pb2_grpc.InteractionStub(ch)
        while not stop.is_set():
            started = time.monotonic()
            await stub.Transcribe(request)
            took.append(time.monotonic() - started)
    return took


PHASES = ("senders", "full", "offline")


async def _phases(address: str, callers: int, turns: int, phases: tuple[str, ...] = PHASES) -> dict:
    clip = _long_clip(60.0)
    out = {"baseline": await _latencies(address, callers, turns)}

    for speed in (1.0, 10.0) if "senders" in phases else ():
        stop = asyncio.Event()
        sender = asyncio.create_task(_sender(address, np.tile(clip, 3), speed, stop))
        phase = out[f"beside a caller sending {speed:g}x"] = await _latencies(address, callers, turns)
        if sender.done():
            phase["sender"] = sender.result()
        else:  # cut off: it had not sent its 180 s yet
            sender.cancel()
            phase["sender"] = "still streaming when the callers were done"

    if "full" in phases:
        await _full(address, callers, turns, out)
    if "offline" in phases:
        await _offline(address, callers, turns, clip, out)
    return out


async def _full(address: str, callers: int, turns: int, out: dict) -> None:
    release, done = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold(address, release))
    await asyncio.sleep(1.0)
    attempts = asyncio.create_task(_refusals(address, done))
    out["gateway full, new calls refused"] = await _latencies(address, callers, turns)
    done.set()
    release.set()
    refused = await attempts
    await holder
    times = [t * 1000 for t, code in refused if code == "RESOURCE_EXHAUSTED"]
    out["gateway full, new calls refused"]["refusals"] = {
        "attempts": len(refused), "refused": len(times), "codes": sorted({c for _, c in refused}),
        "p50_ms": round(statistics.median(times), 1) if times else None,
        "p95_ms": round(float(np.percentile(times, 95)), 1) if times else None}



async def _offline(address: str, callers: int, turns: int, clip: np.ndarray, out: dict) -> None:
    stop = asyncio.Event()
    clips = asyncio.create_task(_transcribe_loop(address, clip, stop))
    out["beside offline 60 s clips"] = await _latencies(address, callers, turns)
    stop.set()
    took = await clips
    out["beside offline 60 s clips"]["clips"] = {"done": len(took),
                                                 "p50_s": round(statistics.median(took), 2) if took else None}


def _table(results: dict) -> str:
    base = results["baseline"]["voice_to_voice"]

    def ratio(v: dict, key: str) -> str:
        return f"{v[key] / base[key]:.2f}" if v.get(key) and base.get(key) else "-"
    lines = ["| phase | v2v p50 | v2v p95 | p50 ratio | p95 ratio | no reply | errors |",
             "|---|---|---|---|---|---|---|"]
    for name, phase in results.items():
        v = phase["voice_to_voice"]
        lines.append(f"| {name} | {v.get('p50_ms')} ms | {v.get('p95_ms')} ms | {ratio(v, 'p50_ms')} | "
                     f"{ratio(v, 'p95_ms')} | {phase['no_reply']} | {', '.join(phase['errors']) or '-'} |")
    extras = []
    if "beside a caller sending 10x" in results:
        one, ten = (results[f"beside a caller sending {s}x"]["voice_to_voice"] for s in ("1", "10"))
        extras += [f"- 10x against 1x: p50 {ten['p50_ms'] / one['p50_ms']:.2f}, "
                   f"p95 {ten['p95_ms'] / one['p95_ms']:.2f}",
                   f"- sender at 1x: {results['beside a caller sending 1x']['sender']}",
                   f"- sender at 10x: {results['beside a caller sending 10x']['sender']}"]
    if "gateway full, new calls refused" in results:
        extras.append(f"- refusals past capacity: {results['gateway full, new calls refused']['refusals']}")
    if "beside offline 60 s clips" in results:
        extras.append(f"- offline clips: {results['beside offline 60 s clips']['clips']}")
    return "\n".join(lines + [""] + extras)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="light")
    parser.add_argument("--callers", type=int, default=2)
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES),
                        help="what runs beside the callers after the baseline (default: all)")
    args = parser.parse_args()
    env = {"SOUNDLOOP_GATEWAY__MAX_SESSIONS": str(args.callers + 1)}
    with tempfile.TemporaryDirectory(prefix="soundloop-admission-") as logs, local_redis_server() as redis_url, \
            local_stack(args.profile, redis_url, log_dir=logs, extra_env=env) as stack:
        results = asyncio.run(_phases(stack.gateway_address, args.callers, args.turns, tuple(args.phases)))
    print(f"{args.profile} profile, {args.callers} callers x {args.turns} questions per phase, session cap "
          f"{args.callers + 1}\n")
    print(_table(results))


if __name__ == "__main__":
    main()
