"""Prosody of a 100 ms chunk: loudness, voicing and pitch, the audio cues of a turn's end.

A speaker about to yield usually falls in pitch and loudness and lengthens the last
syllable; one who pauses mid-turn tends to hold the pitch level or rising. The
turn-taking model reads these per chunk beside the VAD and the transcript.

Cheap by design (the encoder runs it on every chunk of every call): pitch is the
peak of the normalised autocorrelation of 40 ms frames every 20 ms, computed with
one FFT per chunk, between 60 and 400 Hz. ~0.1 ms per chunk here.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from soundloop.audio import codec
from soundloop.encoder.v1 import encoder_pb2

RATE = codec.MODEL_RATE
FRAME = 640  # 40 ms: two periods of a 50 Hz voice
HOP = 320  # 20 ms
MIN_HZ, MAX_HZ = 60.0, 400.0
VOICED_CORRELATION = 0.45  # normalised autocorrelation peak above which a frame is voiced
SILENT_DB = -55.0  # frames quieter than this (dBFS) are never voiced
REFERENCE_HZ = 100.0  # pitch is reported in semitones above this


def _frames(pcm: np.ndarray) -> np.ndarray:
    if len(pcm) < FRAME:
        pcm = np.concatenate([pcm, np.zeros(FRAME - len(pcm), np.float32)])
    n = 1 + (len(pcm) - FRAME) // HOP
    idx = np.arange(FRAME)[None, :] + HOP * np.arange(n)[:, None]
    return pcm[idx]


def chunk_prosody(pcm: np.ndarray, vad_probabilities: Sequence[float] = ()) -> encoder_pb2.ChunkProsody:
    """`pcm`: one chunk of 16 kHz float32 mono audio (any length; 100 ms in the stream);
    `vad_probabilities`: the VAD's per-frame speech probabilities over it (their mean is reported)."""
    vad = float(np.mean(vad_probabilities)) if len(vad_probabilities) else 0.0
    pcm = np.asarray(pcm, np.float32)
    if pcm.size == 0:
        return encoder_pb2.ChunkProsody(energy_db=-90.0, vad_probability=vad)
    energy_db = float(10 * np.log10(np.mean(pcm.astype(np.float64) ** 2) + 1e-9))
    frames = _frames(pcm)
    frames = frames - frames.mean(axis=1, keepdims=True)
    frame_db = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    spectrum = np.fft.rfft(frames * np.hanning(FRAME), n=2 * FRAME, axis=1)
    acf = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :FRAME]
    acf = acf / (acf[:, :1] + 1e-12)
    lo, hi = int(RATE / MAX_HZ), int(RATE / MIN_HZ)
    lags = np.argmax(acf[:, lo:hi], axis=1) + lo
    peaks = acf[np.arange(len(acf)), lags]
    # A peak on the edge of the search range is a slope (low-passed noise), not a period.
    inside = (lags > lo) & (lags < hi - 1)
    voiced = (peaks >= VOICED_CORRELATION) & (frame_db > SILENT_DB) & inside
    pitch = 0.0
    if voiced.any():
        hz = RATE / lags[voiced].astype(np.float64)
        pitch = float(np.median(12 * np.log2(hz / REFERENCE_HZ)))
    return encoder_pb2.ChunkProsody(energy_db=max(-90.0, energy_db), voiced=float(voiced.mean()),
                                    pitch_semitones=pitch, vad_probability=vad)
