"""Streaming resampling to 16 kHz: chunked output equals whole-signal output (moshi-style)."""
import numpy as np
import pytest
from encoder_audio import FRONT_CENTER_48K, MMT1_8K, load

from services.encoder import resampler
from soundloop.audio import codec

pytestmark = pytest.mark.unit


def run(rate: int, samples: np.ndarray, chunk_sizes) -> np.ndarray:
    d = resampler.design(rate)
    history, n_in, out, i = np.zeros(d.history, np.float32), 0, [], 0
    for size in chunk_sizes:
        chunk = samples[i:i + size]
        if chunk.size == 0:
            break
        y, history = resampler.process(d, history, n_in, chunk)
        n_in += chunk.size
        i += size
        out.append(y)
    assert i >= samples.size
    return np.concatenate(out)


def ragged(total: int, seed: int) -> list[int]:
    """Irregular chunk sizes, including 1-sample chunks."""
    sizes = np.random.default_rng(seed).choice([1, 7, 160, 333, 800, 2400, 4801], size=total)
    return list(sizes)


@pytest.mark.parametrize("encoding,rate,source", [
    (codec.MULAW, 8000, MMT1_8K), (codec.PCM16, 24000, FRONT_CENTER_48K), (codec.PCM16, 48000, FRONT_CENTER_48K)])
def test_chunked_equals_whole_signal(encoding, rate, source):
    fmt = codec.Format(encoding, rate)
    samples = codec.decode(fmt, codec.encode(fmt, load(source, rate)))
    whole = run(rate, samples, [samples.size])
    for chunk_ms in (20, 100):
        step = rate * chunk_ms // 1000
        chunked = run(rate, samples, [step] * (samples.size // step + 1))
        np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-6)
    irregular = run(rate, samples, ragged(samples.size, seed=rate))
    np.testing.assert_allclose(irregular, whole, rtol=0, atol=1e-6)


@pytest.mark.parametrize("rate", [8000, 24000, 48000])
def test_matches_reference_resampler_on_speech(rate):
    samples = load(FRONT_CENTER_48K, rate)
    ours = run(rate, samples, [samples.size])
    reference = codec.resample(samples, rate, codec.MODEL_RATE)
    n = ours.size - 100
    err = ours[:n] - reference[:n]
    # Same timeline (the filter delay is removed) and nearly the same signal as soxr.
    assert 20 * np.log10(np.std(err) / np.std(reference[:n])) < -30


@pytest.mark.parametrize("rate", [8000, 24000, 48000])
def test_passband_and_stopband(rate):
    t = np.arange(rate * 2) / rate

    def gain_db(freq):
        y = run(rate, np.sin(2 * np.pi * freq * t).astype(np.float32), [rate // 10] * 20)
        return 20 * np.log10(np.sqrt(2) * y[2000:-2000].std() + 1e-12)

    assert abs(gain_db(1000)) < 0.05
    assert abs(gain_db(0.8 * min(rate, codec.MODEL_RATE) / 2)) < 0.5
    if rate > codec.MODEL_RATE:
        assert gain_db(9000) < -60  # would alias to 7 kHz


@pytest.mark.parametrize("rate", codec.PCM_RATES)
def test_output_count_and_delay(rate):
    d = resampler.design(rate)
    n_in = rate  # one second
    assert d.outputs_after(n_in) == codec.MODEL_RATE - d.delay
    assert d.delay <= 64  # at most 4 ms
    # An impulse comes out where it went in: the delay is removed from the timeline.
    x = np.zeros(rate // 10, np.float32)
    x[rate // 20] = 1.0
    y = run(rate, np.concatenate([x, np.zeros(rate // 10, np.float32)]), [rate // 100] * 20)
    assert int(np.argmax(y)) == 800
