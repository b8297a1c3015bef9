"""Helpers of the TTS tests: run a synthesis to its end, measure and transcribe its audio."""
from __future__ import annotations

import os
import re
import time

import numpy as np

from soundloop.audio import codec
from soundloop.tts.v1 import tts_pb2

PCM16K = codec.Format(codec.PCM16, 16000)
GREETING = "Hello, how can I help you today?"


def request(text: str, voice: str = "", fmt: codec.Format = PCM16K, turn_id: str = "t1") -> tts_pb2.SynthesizeRequest:
    return tts_pb2.SynthesizeRequest(text=text, voice=voice, output_format=fmt.to_proto(), turn_id=turn_id)


async def speak(stage, text: str, voice: str = "", fmt: codec.Format = PCM16K) -> tuple[list[bytes], float]:
    """The pieces of one synthesis and the seconds until the first one."""
    start = time.perf_counter()
    first, pieces = 0.0, []
    async for response in stage.synthesize(request(text, voice, fmt)):
        first = first or time.perf_counter() - start
        pieces.append(response.audio)
    return pieces, first


def engine_audio(engine, text: str, voice: str = "") -> tuple[np.ndarray, int]:
    synthesis = engine.synthesize(text, voice or engine.default_voice)
    samples = np.concatenate(list(synthesis))
    return samples, synthesis.sample_rate


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if samples.size else 0.0


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def word_recall(expected: str, heard: str) -> float:
    heard_words = set(words(heard))
    wanted = words(expected)
    return sum(w in heard_words for w in wanted) / len(wanted)


def transcribe(whisper, samples_16k: np.ndarray) -> str:
    segments, _ = whisper.transcribe(samples_16k, language="en", beam_size=1, temperature=0.0,
                                     condition_on_previous_text=False, vad_filter=False)
    return " ".join(s.text for s in segments)


def child_processes(name: str) -> list[int]:
    """Pids of this process's children running `name` (zombies included: they were not reaped)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == os.getpid() and comm == name[:15]:
            pids.append(int(entry))
    return pids
