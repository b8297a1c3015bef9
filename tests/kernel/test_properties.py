"""Property-based tests (hypothesis) of what callers control: audio bytes and formats, frame sizes,
session configs. For any input: no crash, and every rejection is the clear, typed error the
caller gets as INVALID_ARGUMENT; what is accepted keeps its invariants."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from services.encoder import resampler
from services.gateway.intake import FrameIntake
from services.gateway.session_config import InvalidConfig, check_audio_chunk, normalize_config
from soundloop.audio import codec
from soundloop.errors import InvalidRequest
from soundloop.settings import EncoderSettings
from soundloop.v1 import audio_pb2, interaction_pb2 as pb

pytestmark = pytest.mark.unit

FORMATS = [codec.Format(codec.PCM16, rate) for rate in codec.PCM_RATES] + [
    codec.Format(codec.MULAW, 8000), codec.Format(codec.ALAW, 8000)]
EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@EXAMPLES
@given(st.sampled_from(FORMATS), st.binary(max_size=4000))
def test_any_bytes_decode_to_bounded_samples_or_a_format_error(fmt, data):
    try:
        samples = codec.decode(fmt, data)
    except codec.AudioFormatError as err:
        assert fmt.encoding == codec.PCM16 and len(data) % 2 and "even byte count" in str(err)
        return
    assert samples.dtype == np.float32 and samples.size == len(data) // fmt.bytes_per_sample
    assert np.all(np.abs(samples) <= 1.0)
    # What soundloop sends back in the same format decodes to the same samples.
    assert np.array_equal(codec.decode(fmt, codec.encode(fmt, samples)), samples)


@EXAMPLES
@given(st.integers(min_value=-5, max_value=10), st.integers(min_value=-1, max_value=200_000))
def test_any_format_is_accepted_as_one_soundloop_serves_or_refused_with_what_is_allowed(encoding, rate):
    try:
        fmt = codec.validate_format(codec.Format(encoding, rate))
    except codec.AudioFormatError as err:
        assert "must be" in str(err)
        return
    assert fmt in FORMATS


@EXAMPLES
@given(st.sampled_from([8000, 16000, 24000, 44100, 48000]),
       st.lists(st.integers(min_value=1, max_value=2400), min_size=1, max_size=12), st.integers(0, 2**32 - 1))
def test_streaming_resampling_does_not_depend_on_how_the_stream_is_cut(rate, sizes, seed):
    samples = np.random.default_rng(seed).uniform(-0.5, 0.5, sum(sizes)).astype(np.float32)
    d = resampler.design(rate)

    def run(cuts):
        history, n_in, out = np.zeros(d.history, np.float32), 0, []
        for size in cuts:
            y, history = resampler.process(d, history, n_in, samples[n_in:n_in + size])
            n_in += size
            out.append(y)
        return np.concatenate(out)
    whole, chunked = run([samples.size]), run(sizes)
    assert chunked.size == whole.size == d.outputs_after(samples.size)
    np.testing.assert_allclose(chunked, whole, atol=1e-5)


@EXAMPLES
@given(st.sampled_from(FORMATS), st.lists(st.integers(min_value=0, max_value=5000), max_size=40))
def test_intake_turns_any_valid_frames_into_whole_chunks_and_loses_no_byte(fmt, sizes):
    intake = FrameIntake(fmt, 100, 0.0, clock=lambda: 0.0)
    sent, chunks = bytearray(), []
    for size in sizes:
        frame = bytes(np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8))
        try:
            check_audio_chunk(fmt, frame)
        except InvalidRequest as err:
            assert str(err)  # refused with a reason: empty, odd PCM16 bytes, or over 200 ms
            continue
        sent += frame
        chunks += intake.add(frame)
    assert all(len(c) == fmt.byte_count(100) for c in chunks)
    assert b"".join(chunks) + intake.flush() == bytes(sent)


audio_formats = st.builds(audio_pb2.AudioFormat, encoding=st.integers(0, 6), sample_rate_hz=st.integers(-1, 96000))
configs = st.builds(
    pb.SessionConfig, input_audio=st.one_of(st.none(), audio_formats), output_audio=st.one_of(st.none(), audio_formats),
    language=st.sampled_from(["", "en", "EN-us", "de", "xx", "e" * 300]), instructions=st.text(max_size=9000),
    voice=st.text(max_size=40))


@EXAMPLES
@given(configs, st.sampled_from(["moonshine-tiny", "whisper-base"]))
def test_any_session_config_is_normalized_or_refused_naming_the_field(config, asr_model):
    encoder = EncoderSettings(asr_model=asr_model)  # English only, or any language
    try:
        out = normalize_config(config, encoder)
    except InvalidConfig as err:
        assert str(err).startswith(("config", "language")), str(err)
        return
    assert codec.validate_format(codec.Format.from_proto(out.input_audio)) in FORMATS
    assert codec.validate_format(codec.Format.from_proto(out.output_audio)) in FORMATS
    assert out.language == (config.language or "en").lower()
