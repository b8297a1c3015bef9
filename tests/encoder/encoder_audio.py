"""Real recordings on this machine and a helper that streams them through AnalyzeChunk."""
from __future__ import annotations

import dataclasses
import pathlib

import numpy as np
import soundfile as sf

from soundloop.audio import codec
from soundloop.encoder.v1 import encoder_pb2

# Four Harvard sentences, 16 kHz, speech from 0.1 s with three pauses.
HARVARD_16K = pathlib.Path("/usr/share/codec2/raw/speech_orig_16k.wav")
HTS2A_8K = pathlib.Path("/usr/share/codec2/wav/hts2a.wav")  # "These days a chicken leg is a rare dish."
MMT1_8K = pathlib.Path("/usr/share/codec2/wav/mmt1.wav")  # "It's easy to tell the depth of a well."
FRONT_CENTER_48K = pathlib.Path("/usr/share/sounds/alsa/Front_Center.wav")  # "Front center"
NOISE_48K = pathlib.Path("/usr/share/sounds/alsa/Noise.wav")
SOUNDS = pathlib.Path("/usr/share/sounds/freedesktop/stereo")


def load(path: pathlib.Path, rate: int) -> np.ndarray:
    """Mono float32 samples of a file at `rate`."""
    samples, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    return codec.resample(samples.mean(axis=1), file_rate, rate)


def words(text: str) -> list[str]:
    return "".join(c for c in text.lower() if c.isalnum() or c in " '").split()


@dataclasses.dataclass
class StreamResult:
    pcm: bytes
    boundaries: list[tuple[int, int]]  # (kind, sample)
    tags: list[tuple[str, float, int, int]]
    last: encoder_pb2.AnalyzeChunkResponse
    max_state_bytes: int


async def stream(stage, fmt: codec.Format, samples: np.ndarray, chunk_ms: float) -> StreamResult:
    """Sends `samples` in `chunk_ms` chunks through stage.analyze_chunk, chaining stream_state."""
    data = codec.encode(fmt, samples)
    step = fmt.byte_count(chunk_ms)
    pcm, boundaries, tags, state, max_state = bytearray(), [], [], b"", 0
    resp = None
    for i in range(0, len(data), step):
        resp = await stage.analyze_chunk(encoder_pb2.AnalyzeChunkRequest(
            format=fmt.to_proto(), audio=data[i:i + step], stream_state=state))
        assert resp.pcm_start_sample == len(pcm) // 2, "16 kHz output must be contiguous"
        pcm += resp.pcm16k
        state = resp.stream_state
        max_state = max(max_state, len(state))
        boundaries += [(b.kind, b.sample) for b in resp.boundaries]
        tags += [(t.label, t.score, t.start_sample, t.end_sample) for t in resp.sound_tags]
    return StreamResult(bytes(pcm), boundaries, tags, resp, max_state)


HARVARD_TEXT = ("The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
                "It's easy to tell the depth of a well. Four hours of steady work faced us.")


def wer(reference: str, hypothesis: str) -> float:
    ref, hyp = words(reference), words(hypothesis)
    # Word-level edit distance, one row at a time.
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / len(ref)
