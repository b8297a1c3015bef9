"""Voice-to-voice latency, barge-in stop latency, per-stage cost and resources of
soundloop, and the naive sequential baseline on the same models, in one run.

    python -m bench.voice_latency --profile light --profile default --turns 20 --barge-ins 10

For each profile: the whole system runs as its real processes (stage servers +
gateway, as docker-compose runs them); callers stream synthetic speech in 20 ms
frames at real-time pace through the public gRPC API. Then the baseline runs the
same turns. Results go to <out>/voice_latency.json and <out>/voice_latency.md.
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

from bench import corpus
from bench.naive_pipeline import NaivePipeline
from bench.process_stats import ProcessStats
from soundloop import process_env
from soundloop.client import CallerScript, converse
from soundloop.local_redis import local_redis_server
from soundloop.local_stack import local_stack
from soundloop.settings import GatewaySettings, load_settings
from soundloop.v1 import audio_pb2, interaction_pb2 as pb

PCM16K = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)
STORYTELLER = "You are a storyteller. Answer every question with a long story of at least eight sentences."
STAGE_FIELDS = ("voice_to_voice", "end_of_speech_to_decision", "recognition", "llm_first_token",
                "tts_first_audio", "decision_to_first_audio")


def summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    arr = np.asarray(values) * 1000
    return {"n": len(values), "p50_ms": round(float(np.percentile(arr, 50)), 1),
            "p95_ms": round(float(np.percentile(arr, 95)), 1), "mean_ms": round(float(arr.mean()), 1)}


def _seconds(duration) -> float:
    return duration.seconds + duration.nanos / 1e9


async def measure_turn(address: str, index: int) -> dict:
    caller = corpus.turn(index)
    record = await converse(address, pb.SessionConfig(input_audio=PCM16K), CallerScript(caller.audio, corpus.RATE))
    first_audio = next((e.at for e in record.of("reply_audio")), None)
    completed = record.of("turn_completed")
    metrics = completed[0].event.turn_completed.metrics if completed else pb.TurnMetrics()
    return {
        "question": caller.text, "voice": caller.voice, "transcript": " ".join(record.final_transcripts()),
        "reply": record.reply_text()[:200],
        # Audio is sent at real time from t=0, so the speech's true end left the caller at speech_end_s.
        "client_voice_to_voice_s": None if first_audio is None else first_audio - caller.speech_end_s,
        "gateway": {f: _seconds(getattr(metrics, f)) for f in STAGE_FIELDS if metrics.HasField(f)},
        "audio_s": record.events[-1].at if record.events else 0.0,
    }


async def measure_barge_in(address: str, index: int) -> dict:
    caller = corpus.turn(index)
    script = CallerScript(caller.audio, corpus.RATE, barge_in=corpus.interruption(index), barge_in_delay_s=1.0,
                          stop_after_turns=2, tail_s=20)
    record = await converse(address, pb.SessionConfig(input_audio=PCM16K, instructions=STORYTELLER), script)
    interrupted = record.of("turn_interrupted")
    result = {"interrupted": bool(interrupted), "barge_in_sent": record.barge_in_at is not None,
              "audio_s": record.events[-1].at if record.events else 0.0}
    if interrupted and record.barge_in_at is not None:
        turn = interrupted[0].event.turn_interrupted
        audio = [e.at for e in record.of("reply_audio") if e.event.reply_audio.turn_id == turn.turn_id]
        result["client_stop_s"] = max(0.0, audio[-1] - record.barge_in_at) if audio else 0.0
        if turn.metrics.HasField("barge_in_stop"):
            result["gateway_stop_s"] = _seconds(turn.metrics.barge_in_stop)
        result["answered_new_content"] = len(record.of("turn_started")) >= 2
    return result


def run_soundloop(profile: str, turns: int, barge_ins: int, log_dir: str) -> dict:
    with local_redis_server() as url, local_stack(profile, url, log_dir=log_dir) as stack:
        stats = ProcessStats({name: p.pid for name, p in stack.processes.items()})
        asyncio.run(measure_turn(stack.gateway_address, 0))  # warm-up: first-call costs are not steady state
        stats.start()
        results = [asyncio.run(measure_turn(stack.gateway_address, i)) for i in range(turns)]
        barge = [asyncio.run(measure_barge_in(stack.gateway_address, i)) for i in range(barge_ins)]
        usage = stats.stop()
    audio_s = sum(r["audio_s"] for r in results + barge)
    out = {
        "turns": results, "barge_ins": barge,
        "client_voice_to_voice": summary([r["client_voice_to_voice_s"] for r in results
                                          if r["client_voice_to_voice_s"] is not None]),
        "stages": {f: summary([r["gateway"][f] for r in results if f in r["gateway"]]) for f in STAGE_FIELDS},
        "barge_in_stop_client": summary([b["client_stop_s"] for b in barge if "client_stop_s" in b]),
        "barge_in_stop_gateway": summary([b["gateway_stop_s"] for b in barge if "gateway_stop_s" in b]),
        "barge_in_success": f"{sum(b['interrupted'] for b in barge)}/{len(barge)}",
        "replies_missing": sum(r["client_voice_to_voice_s"] is None for r in results),
        "resources": usage, "caller_audio_s": round(audio_s, 1),
        "cpu_s_per_audio_s": round(usage["cpu_s_total"] / audio_s, 3) if audio_s else None,
    }
    return out


def run_baseline(profile: str, turns: int) -> dict:
    # Whisper and llama.cpp share this process: give it the llama.cpp-friendly OpenMP setting
    # while they load, then restore the environment so later stacks never inherit it.
    saved = dict(os.environ)
    process_env.apply(process_env.LLM_STAGE)
    settings = load_settings(profile=profile)
    pipeline = NaivePipeline(settings, GatewaySettings().default_instructions)
    os.environ.clear()
    os.environ.update(saved)
    pipeline.run(corpus.turn(0, tail_s=1.0).audio, corpus.turn(0).speech_end_s)  # warm-up
    results = []
    for i in range(turns):
        caller = corpus.turn(i, tail_s=1.0)  # room for its 320 ms silence endpoint
        result = pipeline.run(caller.audio, caller.speech_end_s)
        if result:
            results.append(result)
    return {
        "voice_to_voice": summary([r.voice_to_voice_s for r in results]),
        "endpoint_wait": summary([r.endpoint_wait_s for r in results]),
        "recognition": summary([r.recognition_s for r in results]),
        "llm_first_sentence": summary([r.llm_first_sentence_s for r in results]),
        "tts_first_audio": summary([r.tts_first_audio_s for r in results]),
        "turns": [{"transcript": r.transcript, "reply": r.reply, "voice_to_voice_s": r.voice_to_voice_s}
                  for r in results],
        "barge_in": "not handled: the reply plays to the end",
    }


def markdown(results: dict) -> str:
    lines = ["| profile | metric | soundloop p50 | soundloop p95 | baseline p50 | baseline p95 | ratio p50 |",
             "|---|---|---|---|---|---|---|"]
    for profile, r in results["profiles"].items():
        s, b = r["soundloop"], r["baseline"]
        pairs = [("end of speech -> first reply audio", s["client_voice_to_voice"], b["voice_to_voice"]),
                 ("recognition", s["stages"]["recognition"], b["recognition"]),
                 ("LLM first token (soundloop) / first sentence (baseline)", s["stages"]["llm_first_token"],
                  b["llm_first_sentence"]),
                 ("TTS first audio", s["stages"]["tts_first_audio"], b["tts_first_audio"]),
                 ("end of speech -> decision (soundloop) / endpoint (baseline)",
                  s["stages"]["end_of_speech_to_decision"], b["endpoint_wait"]),
                 ("barge-in stop (client)", s["barge_in_stop_client"], {}),
                 ("barge-in stop (gateway)", s["barge_in_stop_gateway"], {})]
        for name, a, c in pairs:
            ratio = (f"{a['p50_ms'] / c['p50_ms']:.2f}" if a.get("p50_ms") and c.get("p50_ms") else "")
            lines.append(f"| {profile} | {name} | {a.get('p50_ms', '')} | {a.get('p95_ms', '')} | "
                         f"{c.get('p50_ms', '')} | {c.get('p95_ms', '')} | {ratio} |")
        res = s["resources"]
        lines.append(f"| {profile} | peak RSS, all processes (MB) | {res['peak_rss_mb_total']} | | | | |")
        lines.append(f"| {profile} | CPU s per s of caller audio | {s['cpu_s_per_audio_s']} | | | | |")
        lines.append(f"| {profile} | barge-in success | {s['barge_in_success']} | | | | |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", action="append", choices=["light", "default"])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--barge-ins", type=int, default=10)
    parser.add_argument("--out", default="bench-out")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {"machine": {"cpus": os.cpu_count()}, "started": time.strftime("%Y-%m-%d %H:%M:%S"), "profiles": {}}
    for profile in args.profile or ["light"]:
        print(f"[bench] {profile}: soundloop, {args.turns} turns + {args.barge_ins} barge-ins", flush=True)
        with tempfile.TemporaryDirectory() as logs:
            sl = run_soundloop(profile, args.turns, args.barge_ins, logs)
        print(f"[bench] {profile}: naive baseline, {args.turns} turns", flush=True)
        results["profiles"][profile] = {"soundloop": sl, "baseline": run_baseline(profile, args.turns)}
        (out / "voice_latency.json").write_text(json.dumps(results, indent=2))
    table = markdown(results)
    (out / "voice_latency.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
