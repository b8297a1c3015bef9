"""YAMNet's log-mel front end in numpy, frame by frame so it can stream.

Matches the reference YAMNet features (tensorflow/models research/audioset/yamnet):
16 kHz audio, 25 ms periodic-Hann window, 10 ms hop, 512-point FFT magnitude,
64 HTK mel bands between 125 and 7500 Hz built like tf.signal's
linear_to_mel_weight_matrix (triangles in mel space, DC bin excluded),
log(mel + 0.001); a patch is 96 frames (0.96 s of hops).
"""
from __future__ import annotations

import functools

import numpy as np

from soundloop.audio.codec import MODEL_RATE

WINDOW = 400  # 25 ms
HOP = 160  # 10 ms
FFT = 512
BANDS = 64
LOW_HZ = 125.0
HIGH_HZ = 7500.0
LOG_OFFSET = 0.001
PATCH_FRAMES = 96


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    return 1127.0 * np.log1p(hz / 700.0)


@functools.cache
def mel_matrix() -> np.ndarray:
    """[FFT // 2 + 1, BANDS] weights from FFT magnitudes to mel bands."""
    bins = FFT // 2 + 1
    bin_mel = _hz_to_mel(np.linspace(0.0, MODEL_RATE / 2, bins)[1:])[:, None]
    edges = np.linspace(_hz_to_mel(np.array(LOW_HZ)), _hz_to_mel(np.array(HIGH_HZ)), BANDS + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bin_mel - lower) / (center - lower)
    falling = (upper - bin_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.vstack([np.zeros((1, BANDS)), weights]).astype(np.float32)


@functools.cache
def _window() -> np.ndarray:
    # Periodic Hann, as tf.signal.hann_window(periodic=True).
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WINDOW) / WINDOW)).astype(np.float32)


def frames_in(n_samples: int) -> int:
    """Complete analysis frames in `n_samples` samples."""
    return 0 if n_samples < WINDOW else 1 + (n_samples - WINDOW) // HOP


def log_mel(samples: np.ndarray) -> np.ndarray:
    """[frames_in(len), BANDS] float32 log-mel frames of 16 kHz samples in [-1, 1]."""
    n = frames_in(samples.size)
    if n == 0:
        return np.empty((0, BANDS), dtype=np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(samples.astype(np.float32, copy=False), WINDOW)[::HOP][:n]
    magnitude = np.abs(np.fft.rfft(frames * _window(), n=FFT)).astype(np.float32)
    return np.log(magnitude @ mel_matrix() + LOG_OFFSET)
