"""A session's language is refused at config time, naming what is supported, instead of reaching a
recognizer that cannot hear it."""
import pytest

from services.gateway.session_config import InvalidConfig, normalize_config
from soundloop.languages import WHISPER_LANGUAGES, unsupported
from soundloop.settings import EncoderSettings
from soundloop.v1 import audio_pb2, interaction_pb2 as pb

pytestmark = pytest.mark.unit

PCM16K = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)
ENGLISH_ONLY = EncoderSettings(asr_model="moonshine-tiny")
MULTILINGUAL = EncoderSettings(asr_model="moonshine-base", asr_multilingual_model="whisper-base")


def test_the_list_is_whispers_own():
    tokenizer = pytest.importorskip("faster_whisper.tokenizer")
    assert WHISPER_LANGUAGES == set(tokenizer._LANGUAGE_CODES)


@pytest.mark.parametrize("language", ["", "en", "en-US", "EN_gb"])
def test_english_is_taken_by_every_profile(language):
    for encoder in (ENGLISH_ONLY, MULTILINGUAL):
        assert normalize_config(pb.SessionConfig(input_audio=PCM16K, language=language), encoder)


@pytest.mark.parametrize("language,encoder,says", [
    ("de", ENGLISH_ONLY, "English only; use 'en'"),
    ("english", ENGLISH_ONLY, "not a BCP-47 language tag"),
    ("xx", MULTILINGUAL, "supported: af, am, ar"),
    ("klingon", MULTILINGUAL, "not a BCP-47 language tag"),
    ("en; DROP", MULTILINGUAL, "not a BCP-47 language tag"),
])
def test_an_unsupported_language_is_refused_naming_what_is_supported(language, encoder, says):
    with pytest.raises(InvalidConfig, match=says) as refused:
        normalize_config(pb.SessionConfig(input_audio=PCM16K, language=language), encoder)
    assert refused.value.code.name == "INVALID_ARGUMENT"


def test_a_multilingual_encoder_takes_its_languages():
    assert unsupported("de-AT", english_only=False) is None
    assert unsupported("yue", english_only=False) is None
