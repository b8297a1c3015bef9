"""Per-chunk prosody: pitch, voicing and loudness on signals with known answers."""
from __future__ import annotations

import numpy as np
import pytest

from services.encoder.prosody import RATE, chunk_prosody

pytestmark = pytest.mark.unit


def voice(hz: float, seconds: float = 0.1, amplitude: float = 0.3) -> np.ndarray:
    """A buzzy voiced sound: the first 8 harmonics of `hz`."""
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude / 8 * sum(np.sin(2 * np.pi * hz * k * t) / k for k in range(1, 9))).astype(np.float32)


@pytest.mark.parametrize("hz", [85.0, 120.0, 210.0, 330.0])
def test_pitch_of_a_voiced_chunk_is_within_half_a_semitone(hz):
    p = chunk_prosody(voice(hz))
    assert p.voiced == 1.0
    assert abs(p.pitch_semitones - 12 * np.log2(hz / 100)) < 0.5


def test_silence_and_noise_are_unvoiced():
    silent = chunk_prosody(np.zeros(1600, np.float32))
    assert (silent.energy_db, silent.voiced, silent.pitch_semitones) == (-90.0, 0.0, 0.0)
    rng = np.random.default_rng(0)
    white = chunk_prosody((0.1 * rng.standard_normal(1600)).astype(np.float32))
    brown = chunk_prosody((0.01 * np.cumsum(rng.standard_normal(1600))).astype(np.float32))
    assert white.voiced == 0.0 and brown.voiced <= 0.25


def test_loudness_follows_the_amplitude():
    loud, quiet = chunk_prosody(voice(150, amplitude=0.5)), chunk_prosody(voice(150, amplitude=0.05))
    assert loud.energy_db - quiet.energy_db == pytest.approx(20.0, abs=0.1)


def test_a_falling_voice_reads_lower_in_its_last_chunk():
    t = np.arange(int(0.5 * RATE)) / RATE
    hz = 200 - 80 * t / 0.5  # a final fall, 200 -> 120 Hz
    audio = (0.3 * np.sin(2 * np.pi * np.cumsum(hz) / RATE)).astype(np.float32)
    first, last = chunk_prosody(audio[:1600]), chunk_prosody(audio[-1600:])
    assert first.pitch_semitones - last.pitch_semitones > 4
