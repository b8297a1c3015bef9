"""Moonshine ASR on real recordings: tiny as shipped (light profile) and base as converted (when assembled)."""
import threading

import numpy as np
import pytest
from encoder_audio import HARVARD_16K, HARVARD_TEXT, MMT1_8K, NOISE_48K, load, wer, words

from services.encoder.errors import InvalidRequest, RecognitionCancelled
from services.encoder.moonshine import MoonshineTranscriber, windows
from soundloop.audio import codec
from soundloop.models import model_path, models_dir

pytestmark = pytest.mark.integration

RATE = codec.MODEL_RATE
# Twice the WER measured on this recording (tiny: "depths"; base: "depths", "blew"), of 32 words.
MAX_WER = {"moonshine-tiny": 0.0625, "moonshine-base": 0.125}


@pytest.fixture(scope="module", params=["moonshine-tiny", "moonshine-base"])
def asr(request):
    name = request.param
    if name == "moonshine-base" and not (models_dir() / name / "encoder.onnx").exists():
        pytest.skip("moonshine-base is not assembled: python scripts/assemble_models.py --model moonshine-base")
    return MoonshineTranscriber(model_path(name), threads=1)




def test_wer_on_harvard_sentences(asr):
    result = asr.transcribe(load(HARVARD_16K, RATE), "en", timestamps=False)
    assert wer(HARVARD_TEXT, result.text) <= MAX_WER[asr.name], result.text
    assert result.avg_logprob > -0.5 and result.no_speech_prob < 0.3
    assert result.segments == ()


def test_short_utterance_and_timestamps(asr):
    samples = load(MMT1_8K, RATE)  # 8 kHz speech, as from a phone
    result = asr.transcribe(samples, "en", timestamps=True)
    assert words(result.text) == words("It's easy to tell the depth of a well"), result.text
    (segment,) = result.segments
    assert segment.start_ms == 0 and segment.end_ms == samples.size * 1000 // RATE


@pytest.mark.parametrize("kind", ["silence", "noise", "tiny clip"])
def test_no_speech_gives_empty_text(asr, kind):
    samples = {"silence": np.zeros(RATE, np.float32),
               "noise": load(NOISE_48K, RATE)[:2 * RATE],
               "tiny clip": np.zeros(RATE // 20, np.float32)}[kind]
    result = asr.transcribe(samples, "en", timestamps=True)
    assert result.text == "" and result.segments == ()
    assert result.no_speech_prob == 1.0


def test_english_only(asr):
    assert asr.language_for("") == asr.language_for("en-US") == asr.language_for("EN_gb") == "en"
    with pytest.raises(InvalidRequest, match="English only"):
        asr.language_for("de-DE")


def test_long_clip_is_decoded_in_windows(asr):
    clip = np.tile(load(HARVARD_16K, RATE), 5)[:45 * RATE]
    result = asr.transcribe(clip, "en", timestamps=True)
    spans = [(s.start_ms, s.end_ms) for s in result.segments]
    assert len(spans) >= 3, spans
    assert spans[0][0] == 0 and spans[-1][1] == 45_000
    assert all(b[0] == a[1] for a, b in zip(spans, spans[1:])), spans  # contiguous windows
    assert all(end - start <= 20_000 for start, end in spans), spans
    # Four times through the clip, plus a partial fifth: most sentences come back every time.
    assert words(result.text).count("canoe") + words(result.text).count("canoes") >= 4, result.text
    assert words(result.text).count("hours") >= 3, result.text
    assert wer(" ".join([HARVARD_TEXT] * 4), result.text) < 0.35, result.text


def test_rebuilt_and_split_models_decode_like_the_shipped_ones(tmp_path):
    """The .ort -> ONNX rebuild and the decoder split (base's build, minus folding and quantizing) on tiny."""
    import shutil

    import onnx

    from soundloop.model_build import moonshine as build, ort_format

    shipped = model_path("moonshine-tiny")
    onnx.save(ort_format.load(shipped / build.SHIPPED_ENCODER), tmp_path / build.ENCODER)
    decoder = ort_format.load(shipped / build.SHIPPED_DECODER)
    onnx.save(build.split_decoder(decoder, cached=False), tmp_path / build.DECODER_FIRST)
    onnx.save(build.split_decoder(decoder, cached=True), tmp_path / build.DECODER_CACHED)
    shutil.copy(shipped / "tokenizer.json", tmp_path)
    samples = load(HARVARD_16K, RATE)[:int(2.5 * RATE)]
    expected = MoonshineTranscriber(shipped, threads=1).transcribe(samples, "en", timestamps=False)
    got = MoonshineTranscriber(tmp_path, threads=1).transcribe(samples, "en", timestamps=False)
    assert got.text == expected.text and "canoe" in got.text
    assert got.avg_logprob == pytest.approx(expected.avg_logprob, abs=0.02)


@pytest.mark.unit
def test_windows_cut_in_pauses():
    rng = np.random.default_rng(0)
    speech = (rng.standard_normal(12 * RATE) * 0.1).astype(np.float32)
    pause = np.zeros(RATE // 2, np.float32)
    samples = np.concatenate([speech, pause, speech, pause, speech])  # 37 s, pauses at 12-12.5 s and 24.5-25 s
    spans = windows(samples)
    assert [s for s, _ in spans][0] == 0 and spans[-1][1] == samples.size
    cuts = [end / RATE for end, _ in zip((e for _, e in spans), spans[1:])]
    assert len(cuts) == 2 and 12.0 <= cuts[0] <= 12.5 and 24.5 <= cuts[1] <= 25.0, cuts
    assert windows(speech) == [(0, speech.size)]


def test_a_cancelled_decode_stops_at_its_next_step_and_frees_the_model(asr):
    samples = load(HARVARD_16K, RATE)
    cancelled = threading.Event()
    steps = []
    step = asr._decoder.step

    def counting(*args):
        steps.append(1)
        if len(steps) == 3:
            cancelled.set()  # the gateway gave up on it mid-decode
        return step(*args)
    asr._decoder.step = counting
    try:
        with pytest.raises(RecognitionCancelled):
            asr.transcribe(samples, "en", timestamps=False, cancelled=cancelled)
    finally:
        del asr._decoder.step
    assert len(steps) == 3  # not the ~80 tokens of the four sentences
    assert wer(HARVARD_TEXT, asr.transcribe(samples, "en", timestamps=False).text) <= MAX_WER[asr.name]
