"""Which Whisper decodes are dropped as likely hallucinations."""
import numpy as np
import pytest

from services.encoder.hallucinations import loudest_dbfs, normalize, rejection
from soundloop.audio.codec import MODEL_RATE

pytestmark = pytest.mark.unit

LOUD, QUIET = -20.0, -60.0


def test_normalize():
    assert normalize(" Thanks for watching!") == "thanks for watching"
    assert normalize("I'll see you next time...") == "ill see you next time"


def test_keeps_confident_speech():
    assert rejection(" These days a chicken leg is a rare dish.", -0.2, 0.02, 1.1, LOUD) is None
    # A real "thank you" from a caller who spoke up is kept.
    assert rejection(" Thank you.", -0.3, 0.05, 0.6, LOUD) is None


@pytest.mark.parametrize("text,logprob,no_speech,ratio,level,reason", [
    ("", -0.1, 0.1, 1.0, LOUD, "no words"),
    (" ...", -0.1, 0.1, 1.0, LOUD, "no words"),
    (" the", -1.3, 0.9, 1.0, LOUD, "no speech"),
    (" go go go go go go go go go go go go go go go go go go go go", -0.3, 0.1, 4.5, LOUD, "repetition loop"),
    (" Thank you.", -0.4, 0.1, 0.6, QUIET, "stock phrase on near-silent audio"),
    (" Thanks for watching!", -0.5, 0.45, 0.8, LOUD, "stock phrase on near-silent audio"),
])
def test_rejects(text, logprob, no_speech, ratio, level, reason):
    assert rejection(text, logprob, no_speech, ratio, level) == reason


def test_loudest_dbfs():
    assert loudest_dbfs(np.zeros(MODEL_RATE, np.float32)) == pytest.approx(-120.0)
    tone = np.zeros(MODEL_RATE, np.float32)
    tone[8000:8320] = 0.5 * np.sin(np.arange(320) * 2 * np.pi / 32)  # one loud 20 ms block
    assert loudest_dbfs(tone) == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.1)
