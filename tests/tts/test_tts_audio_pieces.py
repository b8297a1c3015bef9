"""PieceEncoder: engine chunks -> fixed-length pieces in every wire format."""
import numpy as np
import pytest

from services.tts.audio_pieces import PieceEncoder
from soundloop.audio import codec

pytestmark = pytest.mark.unit

ENGINE_RATE = 22050
FORMATS = [codec.Format(codec.PCM16, rate) for rate in codec.PCM_RATES] + [
    codec.Format(codec.MULAW, 8000), codec.Format(codec.ALAW, 8000)]


def tone(seconds: float, hz: float = 440.0, rate: int = ENGINE_RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def encode_in_chunks(fmt: codec.Format, samples: np.ndarray, sizes: list[int], piece_ms: int = 60) -> list[bytes]:
    encoder = PieceEncoder(ENGINE_RATE, fmt, piece_ms)
    pieces, start = [], 0
    for size in sizes:
        pieces += encoder.push(samples[start:start + size])
        start += size
    pieces += encoder.push(samples[start:])
    return pieces + encoder.finish()


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.describe())
def test_byte_count_matches_the_duration_in_every_format(fmt):
    samples = tone(1.3)
    pieces = encode_in_chunks(fmt, samples, [1000, 7, 4096, 333])
    total = sum(len(p) for p in pieces)
    expected_samples = samples.size * fmt.sample_rate_hz / ENGINE_RATE
    assert abs(total / fmt.bytes_per_sample - expected_samples) <= 2
    assert total % fmt.bytes_per_sample == 0
    # Fixed-length pieces; only the last is shorter.
    piece_bytes = fmt.byte_count(60)
    assert piece_bytes == 60 * fmt.sample_rate_hz // 1000 * fmt.bytes_per_sample
    assert all(len(p) == piece_bytes for p in pieces[:-1]) and 0 < len(pieces[-1]) <= piece_bytes


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.describe())
def test_chunking_does_not_change_the_audio(fmt):
    samples = tone(0.8, hz=1000)
    whole = codec.decode(fmt, b"".join(encode_in_chunks(fmt, samples, [])))
    chunked = codec.decode(fmt, b"".join(encode_in_chunks(fmt, samples, [511] * 20)))
    assert whole.size == chunked.size
    assert np.max(np.abs(whole - chunked)) < 0.02  # G.711 steps; PCM16 is exact
    # The tone survives resampling and companding: its frequency is where it was.
    spectrum = np.abs(np.fft.rfft(whole[:fmt.sample_rate_hz // 2]))
    peak_hz = np.argmax(spectrum) * fmt.sample_rate_hz / (fmt.sample_rate_hz // 2)
    assert abs(peak_hz - 1000) <= 2
    assert 0.3 < np.sqrt(np.mean(whole[1000:-1000] ** 2)) < 0.4  # 0.5 / sqrt(2)


def test_nothing_in_nothing_out():
    encoder = PieceEncoder(ENGINE_RATE, codec.Format(codec.PCM16, 16000))
    assert encoder.push(np.zeros(0, np.float32)) == []
    assert encoder.finish() == []
