"""First-audio latency and real-time factor of each engine through TtsStage.

    python -m services.tts.benchmark [--repeats 7] [--format pcm16:24000|mulaw]

Latency is from the call to the first audio piece; RTF is wall time over audio
duration; CPU is this process's plus its children's (espeak-ng, flite) CPU time
over audio duration. Medians over the repeats, after one warm-up call.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import time

# Before `run` imports the engines: onnxruntime threads must not spin, nothing is downloaded.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

CLAUSE = "Sure, I can help with that."  # 6 words: a typical first clause
SENTENCE = ("The weather tomorrow looks sunny in the morning, with a chance of light rain "
            "arriving late in the evening.")  # 20 words


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def _measure(stage, req, bytes_per_second: float) -> tuple[float, float, float]:
    cpu, start = _cpu_seconds(), time.perf_counter()
    first, size = 0.0, 0
    async for piece in stage.synthesize(req):
        first = first or time.perf_counter() - start
        size += len(piece.audio)
    wall, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    seconds = size / bytes_per_second
    return first, wall / seconds, cpu / seconds


async def run(args: argparse.Namespace) -> None:
    from services.tts.stage import TtsStage
    from services.tts.voice_catalog import VoiceCatalog, load_engine
    from soundloop.audio import codec
    from soundloop.tts.v1 import tts_pb2

    engines = {name: load_engine(name) for name in args.engines}
    stage = TtsStage(VoiceCatalog(engines, args.engines[0]))
    encoding, _, rate = args.format.partition(":")
    fmt = codec.validate_format(codec.Format(codec.MULAW if encoding == "mulaw" else codec.PCM16, int(rate or 0)))
    print(f"{'engine':10} {'text':9} {'first audio ms':>15} {'RTF':>7} {'CPU/audio':>10}   ({fmt.describe()}, "
          f"median of {args.repeats})")
    for name in args.engines:
        for label, text in (("clause", CLAUSE), ("sentence", SENTENCE)):
            req = tts_pb2.SynthesizeRequest(text=text, voice=name, output_format=fmt.to_proto())
            await _measure(stage, req, fmt.sample_rate_hz * fmt.bytes_per_sample)  # warm-up
            runs = [await _measure(stage, req, fmt.sample_rate_hz * fmt.bytes_per_sample)
                    for _ in range(args.repeats)]
            first, rtf, cpu = (statistics.median(r[i] for r in runs) for i in range(3))
            print(f"{name:10} {label:9} {first * 1000:15.1f} {rtf:7.3f} {cpu:10.3f}")
    stage.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=["piper", "espeak-ng", "flite"])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--format", default="pcm16:24000", help="pcm16:<rate> or mulaw")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
