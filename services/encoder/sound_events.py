"""Sound-event tagging with YAMNet (w8a8 ONNX, 521 AudioSet classes).

The model reads one quantized log-mel patch [1, 1, 96, 64] (uint8) and returns
quantized logits. Streams keep their recent log-mel frames already quantized,
so the state carries 64 bytes per 10 ms frame instead of raw audio.
"""
from __future__ import annotations

import csv
import dataclasses
import pathlib

import numpy as np
import onnxruntime as ort

from services.encoder import log_mel
from services.encoder.onnx_scalars import read_scalars

PATCH = log_mel.PATCH_FRAMES
# A patch spans 96 hops; its audio runs to the end of the last 25 ms frame.
PATCH_SAMPLES = (PATCH - 1) * log_mel.HOP + log_mel.WINDOW
TAGS_PER_WINDOW = 3
IGNORED_LABELS = frozenset({"Silence"})
_QUANT = ("audio_scale", "audio_zero_point", "class_scores_scale", "class_scores_zero_point")


@dataclasses.dataclass(frozen=True)
class Tag:
    label: str
    score: float
    start_sample: int
    end_sample: int


class YamnetTagger:
    def __init__(self, model: pathlib.Path, class_map: pathlib.Path):
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        q = read_scalars(model, set(_QUANT))
        self._in_scale, self._in_zero, self._out_scale, self._out_zero = (q[name] for name in _QUANT)
        with class_map.open(newline="") as f:
            self.labels = [row["display_name"] for row in csv.DictReader(f)]
        outputs = self._session.get_outputs()[0].shape[-1]
        if len(self.labels) != outputs:
            raise ValueError(f"{class_map} lists {len(self.labels)} classes, the model has {outputs}")

    def quantize(self, frames: np.ndarray) -> np.ndarray:
        """log-mel frames (float) -> the model's uint8 input scale."""
        return np.clip(np.rint(frames / self._in_scale + self._in_zero), 0, 255).astype(np.uint8)

    def scores(self, patch: np.ndarray) -> np.ndarray:
        """Per-class probabilities of one quantized [96, 64] patch."""
        (logits,) = self._session.run(None, {"audio": patch[None, None]})
        logits = self._out_scale * (logits[0].astype(np.float32) - self._out_zero)
        # YAMNet's head is a sigmoid per class; the export stops at the logits.
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))

    def top(self, scores: np.ndarray, threshold: float) -> list[tuple[str, float]]:
        """Up to TAGS_PER_WINDOW (label, score) at or above `threshold`, best first."""
        found = []
        for i in np.argsort(-scores):
            if scores[i] < threshold or len(found) == TAGS_PER_WINDOW:
                break
            if self.labels[i] not in IGNORED_LABELS:
                found.append((self.labels[i], float(scores[i])))
        return found

    def tag_window(self, patch: np.ndarray, first_frame: int, threshold: float) -> list[Tag]:
        start = first_frame * log_mel.HOP
        found = self.top(self.scores(patch), threshold)
        return [Tag(label, score, start, start + PATCH_SAMPLES) for label, score in found]


def hop_frames(hop_ms: int) -> int:
    """Log-mel frames between the starts of two tagging windows `hop_ms` apart (at least one)."""
    return max(1, round(hop_ms * log_mel.MODEL_RATE / 1000 / log_mel.HOP))


@dataclasses.dataclass
class SoundStream:
    """Per-stream front-end state: audio not yet framed and the last PATCH - 1 quantized frames."""
    tail: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.float32))
    frames: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, log_mel.BANDS), np.uint8))


def advance(tagger: YamnetTagger, stream: SoundStream, samples: np.ndarray, end_sample: int,
            hop_frames: int, threshold: float) -> list[Tag]:
    """Frames new audio (ending at stream index `end_sample`) and tags every window it completes.

    Window k covers frames [k * hop_frames, k * hop_frames + 96).
    """
    audio = np.concatenate([stream.tail, samples.astype(np.float32, copy=False)])
    new = tagger.quantize(log_mel.log_mel(audio))
    frames_before = (end_sample - audio.size) // log_mel.HOP
    frames_after = frames_before + len(new)
    frames = np.concatenate([stream.frames, new])
    first_held = frames_after - len(frames)  # frame index of frames[0]
    tags = []
    # Windows end (exclusively) at frame PATCH + k * hop_frames.
    k = max(0, -(-(frames_before + 1 - PATCH) // hop_frames))
    while (end := PATCH + k * hop_frames) <= frames_after:
        tags += tagger.tag_window(frames[end - PATCH - first_held:end - first_held], end - PATCH, threshold)
        k += 1
    stream.tail = audio[len(new) * log_mel.HOP:].copy()
    stream.frames = frames[-(PATCH - 1):].copy()
    return tags


def tag_clip(tagger: YamnetTagger, samples: np.ndarray, hop_frames: int, threshold: float) -> list[Tag]:
    """Tags a whole 16 kHz clip, one window every `hop_frames`; a label seen in
    consecutive windows becomes one tag spanning them, with the best score."""
    n_frames = max(PATCH, log_mel.frames_in(samples.size))
    n_windows = 1 + -(-(n_frames - PATCH) // hop_frames)
    # Zero padding (silence) completes the last window and clips shorter than one.
    padded_len = (PATCH + (n_windows - 1) * hop_frames - 1) * log_mel.HOP + log_mel.WINDOW
    audio = np.zeros(max(padded_len, samples.size), np.float32)
    audio[:samples.size] = samples
    frames = tagger.quantize(log_mel.log_mel(audio))
    merged: list[Tag] = []
    open_runs: dict[str, int] = {}  # label -> index in `merged` of its run through the previous window
    for w in range(n_windows):
        seen = {}
        for tag in tagger.tag_window(frames[w * hop_frames:w * hop_frames + PATCH], w * hop_frames, threshold):
            run = open_runs.get(tag.label)
            if run is None:
                merged.append(dataclasses.replace(tag, end_sample=min(tag.end_sample, samples.size)))
                seen[tag.label] = len(merged) - 1
            else:
                prev = merged[run]
                merged[run] = dataclasses.replace(prev, score=max(prev.score, tag.score),
                                                  end_sample=min(tag.end_sample, samples.size))
                seen[tag.label] = run
        open_runs = seen
    return sorted(merged, key=lambda t: (t.start_sample, -t.score))
