"""Which engine hears which language: English to the primary (Moonshine), others to a multilingual Whisper."""
from __future__ import annotations

import numpy as np
import pytest

from services.encoder.errors import InvalidRequest
from services.encoder.recognizers import Recognizers, load
from services.encoder.transcriber import Transcript
from soundloop.settings import EncoderSettings, load_settings

pytestmark = pytest.mark.unit


class Multilingual:
    """Routing only: a multilingual engine that records what it was asked."""
    name = "whisper-multilingual"
    multilingual = True

    def language_for(self, requested: str) -> str:
        return requested.split("-")[0]

    def transcribe(self, samples, language, timestamps):
        return Transcript(f"[{language}]", 0.0, 0.0, ())


@pytest.fixture(scope="module")
def moonshine():
    return load("moonshine-tiny", threads=1, beam_size=1)


def test_english_goes_to_moonshine_and_other_languages_to_the_multilingual_engine(moonshine):
    recognizers = Recognizers(moonshine, Multilingual())
    assert recognizers.for_language("")[0] is moonshine
    assert recognizers.for_language("en-GB") == (moonshine, "en")
    engine, code = recognizers.for_language("de-DE")
    assert engine.name == "whisper-multilingual" and code == "de"
    assert recognizers.names == "moonshine-tiny + whisper-multilingual"


def test_without_a_multilingual_engine_other_languages_are_refused_saying_how_to_fix_it(moonshine):
    with pytest.raises(InvalidRequest, match="English only.*ASR_MULTILINGUAL_MODEL"):
        Recognizers(moonshine).for_language("fr")


def test_profiles_pick_moonshine_and_keep_whisper_for_other_languages():
    light, default = load_settings(profile="light"), load_settings(profile="default")
    assert (light.encoder.asr_model, light.encoder.asr_multilingual_model) == ("moonshine-tiny", "")
    assert (default.encoder.asr_model, default.encoder.asr_multilingual_model) == ("moonshine-base", "whisper-base")
    assert light.encoder.english_only and not default.encoder.english_only
    # Moonshine's cost grows with the audio: partials every second; Whisper's does not: every 3 s.
    assert light.gateway.partial_transcript_ms == 1000
    whisper = load_settings(profile="light", encoder=EncoderSettings(asr_model="whisper-tiny.en"))
    assert whisper.gateway.partial_transcript_ms == 3000 and whisper.encoder.english_only


def test_warm_up_runs_every_engine(moonshine):
    asked = []

    class Recording(Multilingual):
        def transcribe(self, samples, language, timestamps):
            asked.append(language)
            return super().transcribe(samples, language, timestamps)

    Recognizers(moonshine, Recording()).warm_up(np.zeros(16000, np.float32))
    assert asked == ["en"]


def test_offline_clips_go_to_whisper_when_one_is_loaded(moonshine):
    assert Recognizers(moonshine, Multilingual()).for_clip("en")[0].name == "whisper-multilingual"
    assert Recognizers(moonshine).for_clip("en") == (moonshine, "en")
