"""How long Piper takes to synthesize a reply's first phrase while the 1.5B LLM decodes on the same two
cores, with the LLM's process at nice 0, 5 and 10 (default profile's models, assembled by scripts/setup.sh).

    PYTHONPATH=. .venv/bin/python docs/benchmarks/2026-12-04-llm-priority/synthesis_under_decoding.py
"""
from __future__ import annotations

import os
import pathlib
import statistics
import subprocess
import sys
import time

from soundloop import process_env

process_env.apply(process_env.MODEL_STAGE)  # as the TTS stage runs: onnxruntime without spinning

from services.tts.piper_engine import PiperEngine  # noqa: E402  (after the environment is set)
from soundloop.models import model_path  # noqa: E402

PHRASES = ["The capital of France", "Sure, here's a short", "The bank usually opens at",
           "Mercury is the closest planet"]
DECODER = """
import llama_cpp, sys
llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=512, n_threads=2, verbose=False)
print("ready", flush=True)
while True:
    for _ in llm.create_completion("Write a long story about a dog:", max_tokens=200, stream=True):
        pass
"""


def first_audio_ms(engine: PiperEngine, text: str) -> float:
    started = time.perf_counter()
    next(iter(engine.synthesize(text, engine.default_voice)))
    return (time.perf_counter() - started) * 1000


def measure(engine: PiperEngine, label: str) -> None:
    times = [first_audio_ms(engine, text) for _ in range(4) for text in PHRASES]
    print(f"{label}: p50 {statistics.median(times):.0f} ms, max {max(times):.0f} ms", flush=True)


def main() -> None:
    engine = PiperEngine(next(pathlib.Path(model_path("piper-joe")).glob("*.onnx")))
    measure(engine, "warm-up")
    measure(engine, "alone")
    gguf = str(model_path("qwen2.5-coder-1.5b", "model.gguf"))
    for nice in (0, 5, 10):
        env = {**os.environ, **process_env.LLM_STAGE}
        env.pop("OMP_WAIT_POLICY", None)
        decoder = subprocess.Popen(["nice", "-n", str(nice), sys.executable, "-c", DECODER, gguf], env=env,
                                   stdout=subprocess.PIPE, text=True)
        try:
            decoder.stdout.readline()
            time.sleep(1.0)
            measure(engine, f"while the LLM decodes at nice {nice}")
        finally:
            decoder.kill()
            decoder.wait()


if __name__ == "__main__":
    main()
