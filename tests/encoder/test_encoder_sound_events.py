"""YAMNet front end and tagging on real event sounds."""
import numpy as np
import pytest
from encoder_audio import HARVARD_16K, NOISE_48K, SOUNDS, load

from services.encoder import log_mel, sound_events
from soundloop.audio.codec import MODEL_RATE


@pytest.mark.unit
def test_mel_bands_cover_125_to_7500_hz():
    m = log_mel.mel_matrix()
    assert m.shape == (257, 64)
    assert (m.sum(axis=0) > 0).all()  # no empty band
    hz = np.linspace(0, MODEL_RATE / 2, 257)
    used = hz[m.sum(axis=1) > 0]
    assert 110 < used.min() < 160 and 7400 < used.max() < 7550


@pytest.mark.unit
def test_tone_lands_in_its_band():
    t = np.arange(MODEL_RATE) / MODEL_RATE
    frames = log_mel.log_mel((0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32))
    assert frames.shape == (log_mel.frames_in(MODEL_RATE), 64) == (98, 64)
    peak_band = int(np.argmax(frames.mean(axis=0)))
    edges_mel = np.linspace(1127 * np.log1p(125 / 700), 1127 * np.log1p(7500 / 700), 66)
    centers_hz = 700 * (np.exp(edges_mel[1:-1] / 1127) - 1)
    assert abs(centers_hz[peak_band] - 1000) < 80
    silent = log_mel.log_mel(np.zeros(800, np.float32))
    np.testing.assert_allclose(silent, np.log(0.001), atol=1e-6)


@pytest.fixture(scope="module")
def tagger(encoder_stage):
    return encoder_stage.tagger


def best_tags(tagger, samples):
    found = {}
    for tag in sound_events.tag_clip(tagger, samples, hop_frames=48, threshold=0.2):
        found[tag.label] = max(found.get(tag.label, 0.0), tag.score)
    return found


@pytest.mark.integration
@pytest.mark.parametrize("sound,expected", [
    ("phone-incoming-call.oga", {"Telephone", "Telephone bell ringing", "Alarm"}),
    ("alarm-clock-elapsed.oga", {"Alarm clock", "Alarm", "Smoke detector, smoke alarm", "Beep, bleep", "Buzzer"}),
    ("camera-shutter.oga", {"Camera", "Single-lens reflex camera"}),
    ("trash-empty.oga", {"Crumpling, crinkling"}),
])
def test_event_sounds_get_their_classes(tagger, sound, expected):
    found = best_tags(tagger, load(SOUNDS / sound, MODEL_RATE))
    assert expected & found.keys(), found
    assert "Speech" not in found


@pytest.mark.integration
def test_speech_and_noise(tagger):
    speech = best_tags(tagger, load(HARVARD_16K, MODEL_RATE))
    assert speech.get("Speech", 0) > 0.9
    noise = best_tags(tagger, load(NOISE_48K, MODEL_RATE))
    assert "Speech" not in noise and noise.keys() & {"Pink noise", "White noise", "Noise", "Static"}


@pytest.mark.integration
def test_streaming_windows_equal_clip_windows(tagger):
    """A stream fed in 100 ms pieces runs the same windows on the same frames as the whole signal."""
    samples = load(SOUNDS / "phone-incoming-call.oga", MODEL_RATE)[:MODEL_RATE * 3 // 2]
    stream, tags, end = sound_events.SoundStream(), [], 0
    for i in range(0, samples.size, 1600):
        piece = samples[i:i + 1600]
        end += piece.size
        tags += sound_events.advance(tagger, stream, piece, end, hop_frames=48, threshold=0.2)
    frames = tagger.quantize(log_mel.log_mel(samples))
    expected = []
    for first in range(0, len(frames) - 95, 48):
        expected += tagger.tag_window(frames[first:first + 96], first, threshold=0.2)
    assert tags == expected and len({t.start_sample for t in tags}) == 2
