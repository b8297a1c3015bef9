"""Round trip: what the stage says, Whisper (tiny.en) must hear."""
import pytest
from tts_speech import PCM16K, speak, transcribe, word_recall

from soundloop.audio import codec

pytestmark = pytest.mark.integration

SENTENCE = "Please call me tomorrow morning about the meeting with the new team."


@pytest.mark.parametrize("voice, minimum", [
    ("piper", 0.8),
    ("espeak-ng:en-us", 0.6),  # robotic: Whisper misses more of it (MODELS.md: ~19% WER)
    ("flite:slt", 0.8),
])
async def test_whisper_hears_the_words(tts_stage, whisper, voice, minimum):
    pieces, _ = await speak(tts_stage, SENTENCE, voice, PCM16K)
    heard = transcribe(whisper, codec.decode(PCM16K, b"".join(pieces)))
    assert word_recall(SENTENCE, heard) >= minimum, heard


async def test_whisper_hears_telephone_audio(tts_stage, whisper):
    # The caller's likeliest format: 8 kHz mu-law, heard back at 16 kHz.
    fmt = codec.Format(codec.MULAW, 8000)
    pieces, _ = await speak(tts_stage, SENTENCE, "piper", fmt)
    samples = codec.resample(codec.decode(fmt, b"".join(pieces)), 8000, 16000)
    heard = transcribe(whisper, samples)
    assert word_recall(SENTENCE, heard) >= 0.8, heard
