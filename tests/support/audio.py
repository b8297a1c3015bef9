"""Real test audio: espeak-ng speech made at test time, and sounds Debian ships."""
from __future__ import annotations

import pathlib

import numpy as np
import soundfile as sf

from soundloop.audio import codec
from soundloop.demo import speak

RATE = codec.MODEL_RATE  # soundloop.demo.speak() returns audio at this rate
FREEDESKTOP = pathlib.Path("/usr/share/sounds/freedesktop/stereo")
CODEC2_WAV = pathlib.Path("/usr/share/codec2/wav")


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


def sound(name: str) -> np.ndarray:
    """A freedesktop event sound (e.g. "alarm-clock-elapsed") at 16 kHz mono."""
    audio, rate = sf.read(FREEDESKTOP / f"{name}.oga", dtype="float32", always_2d=True)
    return codec.resample(audio.mean(axis=1), rate, RATE)


def recording(path: pathlib.Path) -> np.ndarray:
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    return codec.resample(audio.mean(axis=1), rate, RATE)


def join(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts).astype(np.float32)


__all__ = ["RATE", "join", "recording", "silence", "sound", "speak"]
