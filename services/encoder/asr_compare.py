"""Compares the ASR engines: latency per utterance length and thread count, WER per corpus.

    python -m services.encoder.benchmark --compare whisper-tiny.en whisper-base moonshine-tiny moonshine-base

Latency: wall time of `transcribe` on 1 / 2.5 / 5 s cuts of a real recording,
after one warm-up decode. WER (corpus WER, the bench's normalisation) on the
codec2 recordings, on the same after an 8 kHz G.711 mu-law round trip, and on
synthetic voices (espeak-ng, flite). A development tool: needs jiwer and bench/.
"""
from __future__ import annotations

import pathlib
import statistics
import subprocess
import tempfile
import time

import numpy as np

from soundloop.audio import codec

RATE = codec.MODEL_RATE
HARVARD = "/usr/share/codec2/raw/speech_orig_16k.wav"
REAL = {
    HARVARD: "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
             "It's easy to tell the depth of a well. Four hours of steady work faced us.",
    "/usr/share/codec2/wav/hts2a.wav": "These days a chicken leg is a rare dish.",
    "/usr/share/codec2/wav/mmt1.wav": "It's easy to tell the depth of a well.",
}
SYNTHETIC = (
    "Please call me back tomorrow morning.",
    "What is the weather like in Paris today?",
    "Turn off the lights in the kitchen.",
    "I would like to book a table for two at seven.",
    "The quick brown fox jumps over the lazy dog.",
)
VOICES = (("espeak-ng", ["espeak-ng", "-v", "en-us", "-w", "{out}", "{text}"]),
          ("flite slt", ["flite", "-voice", "slt", "-t", "{text}", "-o", "{out}"]),
          ("flite kal", ["flite", "-voice", "kal", "-t", "{text}", "-o", "{out}"]))
LENGTHS_S = (1.0, 2.5, 5.0)
OFFSETS_S = (0.0, 2.7, 5.4)  # three cuts per length from the Harvard recording (10.8 s of speech)
REPEATS = 3


def load(path: str) -> np.ndarray:
    import soundfile as sf

    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    return codec.resample(samples.mean(axis=1), rate, RATE)


def telephone(samples: np.ndarray) -> np.ndarray:
    """16 kHz -> 8 kHz G.711 mu-law -> 16 kHz, as a phone caller arrives."""
    fmt = codec.Format(codec.MULAW, 8000)
    return codec.resample(codec.decode(fmt, codec.encode(fmt, codec.resample(samples, RATE, 8000))), 8000, RATE)


def synthetic() -> list[tuple[np.ndarray, str]]:
    clips = []
    with tempfile.TemporaryDirectory() as tmp:
        for v, (_, cmd) in enumerate(VOICES):
            for i, text in enumerate(SYNTHETIC):
                out = str(pathlib.Path(tmp) / f"{v}-{i}.wav")
                subprocess.run([a.format(out=out, text=text) for a in cmd], check=True, capture_output=True)
                clips.append((load(out), text))
    return clips


def engine(name: str, threads: int):
    """The transcriber for a model name, as the encoder would build it."""
    from services.encoder.moonshine import MoonshineTranscriber
    from services.encoder.transcriber import Transcriber
    from soundloop.models import model_path
    from soundloop.settings import EncoderSettings

    if name.startswith("moonshine"):
        return MoonshineTranscriber(model_path(name), threads)
    return Transcriber(model_path(name), threads, EncoderSettings().asr_beam_size)


def latency(asr, harvard: np.ndarray) -> dict[float, tuple[float, float, float]]:
    """Median and p95 wall ms and median process CPU ms (all threads; robust to a busy machine) per length."""
    asr.transcribe(harvard[:RATE * 2], "en", timestamps=False)
    out = {}
    for length in LENGTHS_S:
        cuts = [harvard[int(o * RATE):int((o + length) * RATE)] for o in OFFSETS_S]
        walls, cpus = [], []
        for _ in range(REPEATS):
            for cut in cuts:
                t0, c0 = time.perf_counter(), time.process_time()
                asr.transcribe(cut, "en", timestamps=False)
                walls.append((time.perf_counter() - t0) * 1000)
                cpus.append((time.process_time() - c0) * 1000)
        out[length] = (statistics.median(walls), float(np.percentile(walls, 95)), statistics.median(cpus))
    return out


def wer(asr, clips: list[tuple[np.ndarray, str]]) -> float:
    import jiwer

    from bench.scoring import normalize

    refs, hyps = [], []
    for samples, ref in clips:
        refs.append(normalize(ref))
        hyps.append(normalize(asr.transcribe(samples, "en", timestamps=False).text))
    return jiwer.wer(refs, hyps)


def main(engines: list[str], threads: tuple[int, ...] = (1, 2)) -> None:
    real = [(load(path), text) for path, text in REAL.items()]
    corpora = {"real": real, "real via G.711": [(telephone(s), t) for s, t in real], "synthetic": synthetic()}
    harvard = real[0][0]
    rows = []
    for name in engines:
        wers = None
        for n in threads:
            asr = engine(name, n)
            ms = latency(asr, harvard)
            if wers is None:  # greedy/beam decoding does not depend on the thread count
                wers = {corpus: wer(asr, clips) for corpus, clips in corpora.items()}
            rows.append((name, n, ms, wers))
            print(f"{name} threads={n}: " + ", ".join(
                f"{length:g} s median {m:.0f} p95 {p:.0f} CPU {c:.0f} ms" for length, (m, p, c) in ms.items()),
                  flush=True)
    words = {corpus: sum(len(t.split()) for _, t in clips) for corpus, clips in corpora.items()}
    print("\n| engine | threads | " + " | ".join(f"{length:g} s wall median / p95 (CPU) ms" for length in LENGTHS_S)
          + " | "
          + " | ".join(f"WER {c} ({words[c]} words)" for c in corpora) + " |")
    print("|---|---|" + "---|" * (len(LENGTHS_S) + len(corpora)))
    for name, n, ms, wers in rows:
        print(f"| {name} | {n} | " + " | ".join(f"{m:.0f} / {p:.0f} ({c:.0f})" for m, p, c in ms.values()) + " | "
              + " | ".join(f"{100 * w:.1f} %" for w in wers.values()) + " |")
