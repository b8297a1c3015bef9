"""Voice activity: Silero VAD v5 (ONNX) frame by frame, plus onset/offset hysteresis.

Silero v5 at 16 kHz reads 512-sample frames preceded by the last 64 samples of
the previous frame, and carries a [2, 1, 128] recurrent state. All of it lives
in `VadStream`, which travels in the encoder's stream state.
"""
from __future__ import annotations

import dataclasses
import enum
import pathlib
from typing import NamedTuple

import numpy as np
import onnxruntime as ort

from soundloop.audio.codec import MODEL_RATE

FRAME = 512  # 32 ms at 16 kHz
CONTEXT = 64
STATE_SHAPE = (2, 1, 128)
FRAME_MS = FRAME * 1000 // MODEL_RATE
# Silero's own offset threshold: speech ends below `threshold - 0.15`.
OFFSET_MARGIN = 0.15


class BoundaryKind(enum.Enum):
    START = "start"
    END = "end"


class Boundary(NamedTuple):
    kind: BoundaryKind
    sample: int  # 16 kHz stream index


@dataclasses.dataclass(frozen=True)
class Hysteresis:
    threshold: float
    start_frames: int  # frames at or above `threshold` before speech starts
    end_frames: int  # frames below `threshold` (some below `off_threshold`) before it ends

    @classmethod
    def from_ms(cls, threshold: float, start_ms: int, end_ms: int) -> Hysteresis:
        return cls(threshold, max(1, -(-start_ms // FRAME_MS)), max(1, -(-end_ms // FRAME_MS)))

    @property
    def off_threshold(self) -> float:
        return max(0.0, self.threshold - OFFSET_MARGIN)


@dataclasses.dataclass
class Activity:
    in_speech: bool = False
    # A run of frames that points at the other state, and where it began.
    run_frames: int = 0
    run_start: int = 0
    # Where the current speech (or silence) began.
    since: int = 0

    def step(self, prob: float, frame_start: int, h: Hysteresis) -> Boundary | None:
        """Feeds one frame's speech probability; returns the boundary it completes, if any."""
        if not self.in_speech:
            if prob < h.threshold:
                self.run_frames = 0
                return None
            return self._extend_run(frame_start, h.start_frames, BoundaryKind.START)
        if prob >= h.threshold:
            self.run_frames = 0
            return None
        # Like Silero's iterator: the silence run opens below the offset threshold,
        # and frames between the two thresholds keep it going.
        if self.run_frames == 0 and prob >= h.off_threshold:
            return None
        return self._extend_run(frame_start, h.end_frames, BoundaryKind.END)

    def _extend_run(self, frame_start: int, needed: int, kind: BoundaryKind) -> Boundary | None:
        if self.run_frames == 0:
            self.run_start = frame_start
        self.run_frames += 1
        if self.run_frames < needed:
            return None
        # Back-dated to the run's first frame: that is when speech (or silence) began.
        self.in_speech = kind is BoundaryKind.START
        self.since, self.run_frames = self.run_start, 0
        return Boundary(kind, self.run_start)


@dataclasses.dataclass
class VadStream:
    """Per-stream VAD state; `remainder` holds samples short of a whole frame."""
    recurrent: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(STATE_SHAPE, np.float32))
    context: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(CONTEXT, np.float32))
    remainder: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.float32))
    activity: Activity = dataclasses.field(default_factory=Activity)

    def known_until(self, end_sample: int) -> int:
        """Where voice activity is known, for a stream fed up to `end_sample`: its last whole frame."""
        return end_sample - self.remainder.size

    def run_ms(self, end_sample: int) -> int:
        """How long the current speech (or silence) has lasted, in ms."""
        return max(0, self.known_until(end_sample) - self.activity.since) * 1000 // MODEL_RATE


class SileroVad:
    """The Silero v5 network; one session serves every stream (onnxruntime runs are thread-safe)."""

    def __init__(self, path: pathlib.Path, hysteresis: Hysteresis):
        options = ort.SessionOptions()
        # One frame is ~0.1 ms of work: threads would cost more than they save.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._rate = np.array(MODEL_RATE, dtype=np.int64)
        self.hysteresis = hysteresis

    def probability(self, window: np.ndarray, recurrent: np.ndarray) -> tuple[float, np.ndarray]:
        """Speech probability of a [CONTEXT + FRAME] window, and the next recurrent state."""
        prob, recurrent = self._session.run(
            None, {"input": window[None, :], "state": recurrent, "sr": self._rate})
        return float(prob[0, 0]), recurrent

    def process(self, stream: VadStream, samples: np.ndarray, end_sample: int,
                probabilities: list[float] | None = None) -> list[Boundary]:
        """Runs every whole frame of `stream.remainder + samples`, which end at stream index `end_sample`;
        appends each frame's speech probability to `probabilities` when given."""
        audio = np.concatenate([stream.context, stream.remainder, samples.astype(np.float32, copy=False)])
        n_frames = (audio.size - CONTEXT) // FRAME
        first_frame_start = end_sample - (audio.size - CONTEXT)
        boundaries = []
        for i in range(n_frames):
            window = audio[i * FRAME:i * FRAME + CONTEXT + FRAME]
            prob, stream.recurrent = self.probability(window, stream.recurrent)
            if probabilities is not None:
                probabilities.append(prob)
            boundary = stream.activity.step(prob, first_frame_start + i * FRAME, self.hysteresis)
            if boundary:
                boundaries.append(boundary)
        used = n_frames * FRAME
        stream.context = audio[used:used + CONTEXT].copy()
        stream.remainder = audio[used + CONTEXT:].copy()
        return boundaries
