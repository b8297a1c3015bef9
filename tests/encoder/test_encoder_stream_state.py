"""The binary stream_state: round trip, size, and clear errors for foreign or corrupt bytes."""
import numpy as np
import pytest

from services.encoder import stream_state
from services.encoder.errors import InvalidStreamState
from soundloop.audio import codec

pytestmark = pytest.mark.unit

MULAW = codec.Format(codec.MULAW, 8000)


def sample_stream() -> stream_state.EncoderStream:
    rng = np.random.default_rng(0)
    s = stream_state.EncoderStream.start(MULAW)
    s.input_samples = 8000 * 7 + 123
    s.history = rng.standard_normal(s.history.size).astype(np.float32)
    n_out = s.output_samples
    s.vad.recurrent = rng.standard_normal(s.vad.recurrent.shape).astype(np.float32)
    s.vad.context = rng.standard_normal(64).astype(np.float32)
    s.vad.remainder = rng.standard_normal(n_out % 512).astype(np.float32)
    s.vad.activity.in_speech, s.vad.activity.run_frames = True, 3
    s.vad.activity.run_start, s.vad.activity.since = 100_000, 50_000
    tail = n_out % 160 + 160 * ((240 - n_out % 160 + 159) // 160)  # what 25 ms frames at a 10 ms hop leave
    s.sound.tail = rng.standard_normal(tail).astype(np.float32)
    s.sound.frames = rng.integers(0, 255, (95, 64), dtype=np.uint8)
    return s


def test_round_trip():
    s = sample_stream()
    data = stream_state.pack(s)
    assert data[0] == stream_state.VERSION
    assert len(data) < 40_000
    back = stream_state.unpack(data, MULAW)
    assert back.format == s.format and back.input_samples == s.input_samples
    assert back.vad.activity == s.vad.activity
    for a, b in [(back.history, s.history), (back.vad.recurrent, s.vad.recurrent), (back.vad.context, s.vad.context),
                 (back.vad.remainder, s.vad.remainder), (back.sound.tail, s.sound.tail),
                 (back.sound.frames, s.sound.frames)]:
        np.testing.assert_array_equal(a, b)
    assert stream_state.pack(back) == data


def test_empty_state_starts_a_stream():
    s = stream_state.unpack(b"", MULAW)
    assert s.input_samples == 0 and not s.vad.activity.in_speech


def test_corrupt_state_is_rejected():
    data = bytearray(stream_state.pack(sample_stream()))
    data[100] ^= 0x40
    with pytest.raises(InvalidStreamState, match="corrupt"):
        stream_state.unpack(bytes(data), MULAW)
    with pytest.raises(InvalidStreamState, match="corrupt"):
        stream_state.unpack(bytes(data[:20]), MULAW)


def test_foreign_version_is_rejected():
    data = b"\x07" + stream_state.pack(sample_stream())[1:]
    with pytest.raises(InvalidStreamState, match="version 7"):
        stream_state.unpack(data, MULAW)


def test_format_must_match_the_stream():
    data = stream_state.pack(sample_stream())
    with pytest.raises(InvalidStreamState, match="MULAW 8000 Hz stream but this chunk is PCM16LE 8000 Hz"):
        stream_state.unpack(data, codec.Format(codec.PCM16, 8000))
