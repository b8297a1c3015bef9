"""Streaming polyphase resampling of caller audio to 16 kHz, with explicit history.

The filter is a Kaiser-windowed sinc. Its group delay is removed from the output
timeline: sample i of the 16 kHz stream is the caller's audio at i / 16000 s, so
VAD boundaries, sound tags and the gateway's PCM share one clock. The price is
that each chunk's output lags its input by `delay` samples (2 ms, 4 ms from 8 kHz); the last
`delay` samples of a stream stay in the history until more audio arrives.
"""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from soundloop.audio.codec import MODEL_RATE

# Zero crossings of the sinc on each side, counted at the lower of the two rates.
# 32 keeps the stopband below -80 dB and the passband flat to 7 kHz (from 48 kHz).
ZERO_CROSSINGS = 32
KAISER_BETA = 8.0
# Passband edge relative to the lower rate's Nyquist frequency.
ROLLOFF = 0.95


@dataclasses.dataclass(frozen=True)
class ResamplerDesign:
    """A polyphase filter from `rate_hz` to 16 kHz: y[n] = sum_j x[j] h[n*down - j*up]."""
    up: int
    down: int
    # phases[p, i] multiplies x[j_last - i] for outputs whose phase n*down - j_last*up is p.
    phases: np.ndarray
    # Output samples (at 16 kHz) by which the filter delays the signal.
    delay: int

    @functools.cached_property
    def reversed_phases(self) -> np.ndarray:
        return np.ascontiguousarray(self.phases[:, ::-1])

    @property
    def taps(self) -> int:
        return self.phases.shape[1]

    @property
    def history(self) -> int:
        """Input samples carried between chunks."""
        return self.taps - 1

    def outputs_after(self, n_in: int) -> int:
        """Output samples (delay removed) that `n_in` input samples fully determine."""
        # Output n needs input floor(n * down / up), so n < n_in * up / down.
        produced = -(-n_in * self.up // self.down)
        return max(0, produced - self.delay)


@functools.cache
def design(rate_hz: int) -> ResamplerDesign:
    g = math.gcd(rate_hz, MODEL_RATE)
    up, down = MODEL_RATE // g, rate_hz // g
    if up == down:
        return ResamplerDesign(1, 1, np.ones((1, 1), dtype=np.float32), 0)
    # Half length in upsampled samples; a multiple of `down` so the delay is a whole output sample.
    half = ZERO_CROSSINGS * max(up, down)
    half += (-half) % down
    length = 2 * half + 1
    cutoff = ROLLOFF / max(up, down)  # cycles per upsampled sample, times 2
    t = np.arange(length) - half
    h = cutoff * np.sinc(cutoff * t) * np.kaiser(length, KAISER_BETA)
    h *= up / h.sum()  # zero-stuffing divides the level by `up`
    taps = -(-length // up)
    padded = np.zeros(taps * up)
    padded[:length] = h
    phases = padded.reshape(taps, up).T.astype(np.float32)
    return ResamplerDesign(up, down, np.ascontiguousarray(phases), half // down)


def process(d: ResamplerDesign, history: np.ndarray, n_in: int, chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Resamples `chunk`, the input samples after the first `n_in` of the stream.

    `history` holds the `d.history` input samples before the chunk (zeros at the
    start). Returns (16 kHz output for this chunk, new history).
    """
    if d.up == d.down:
        return chunk.astype(np.float32, copy=False), history
    buf = np.concatenate([history, chunk.astype(np.float32, copy=False)])
    first = d.outputs_after(n_in) + d.delay
    last = d.outputs_after(n_in + chunk.size) + d.delay
    out = np.empty(last - first, dtype=np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(buf, d.taps)
    # Outputs `up` apart share a phase and read windows `down` input samples apart,
    # so each phase is one strided matrix-vector product.
    for n0 in range(first, min(first + d.up, last)):
        j_last = n0 * d.down // d.up
        phase = n0 * d.down - j_last * d.up
        count = len(range(n0, last, d.up))
        # windows[k] starts at input n_in - history + k and ends at input n_in + k.
        oldest = j_last - n_in
        rows = windows[oldest:oldest + (count - 1) * d.down + 1:d.down]
        out[n0 - first::d.up] = np.einsum("ij,j->i", rows, d.reversed_phases[phase])
    return out, buf[buf.size - d.history:].copy()
