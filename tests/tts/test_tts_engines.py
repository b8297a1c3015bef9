"""The three speech engines, run for real: audio, voices, hostile text, cancellation."""
import os
import signal
import threading
import time

import numpy as np
import pytest
from tts_speech import GREETING, child_processes, engine_audio, rms

from soundloop.errors import Unavailable

pytestmark = pytest.mark.integration

ENGINES = ["espeak_engine", "flite_engine", "piper_engine"]


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.getfixturevalue(request.param)


def test_greeting_is_speech_of_plausible_length(engine):
    samples, rate = engine_audio(engine, GREETING)
    assert samples.dtype == np.float32
    assert rate == {"espeak-ng": 22050, "flite": 16000, "piper": 22050}[engine.name]
    assert 0.5 < samples.size / rate < 4.0
    assert rms(samples) > 0.02
    assert np.max(np.abs(samples)) <= 1.0
    # Speech has pauses and loud parts; noise or a tone would not.
    frames = samples[: samples.size // 320 * 320].reshape(-1, 320)
    loudness = np.sqrt(np.mean(frames ** 2, axis=1))
    assert np.percentile(loudness, 90) > 5 * np.percentile(loudness, 10)


def test_longer_text_takes_longer(engine):
    short, _ = engine_audio(engine, "Yes.")
    long, _ = engine_audio(engine, "Yes. The meeting has moved to Thursday afternoon at three.")
    assert long.size > 2.5 * short.size


@pytest.mark.parametrize("text", ["-v en-gb --help", "--stdout -w /tmp/x.wav", "'; rm -rf / #", "$(reboot) `id`"])
def test_text_is_spoken_never_parsed_as_options_or_shell(engine, text, tmp_path):
    samples, rate = engine_audio(engine, text)
    assert samples.size / rate > 0.3 and rms(samples) > 0.01


def test_every_voice_speaks(espeak_engine, flite_engine, piper_engine):
    assert "en-us" in espeak_engine.voices and "en-gb" in espeak_engine.voices
    assert set(flite_engine.voices) >= {"slt", "rms", "awb", "kal"} and "awb_time" not in flite_engine.voices
    assert piper_engine.voices == ("en_US-joe-medium",)
    for engine in (espeak_engine, flite_engine):
        for voice in engine.voices:
            samples, rate = engine_audio(engine, "Good morning.", voice)
            assert 0.3 < samples.size / rate < 3 and rms(samples) > 0.01, voice
            if voice == "kal":
                assert rate == 8000  # a diphone voice at telephone rate


def test_espeak_cancel_kills_the_process_mid_stream(espeak_engine):
    synthesis = espeak_engine.synthesize("This sentence goes on and on. " * 60, "en-us")
    first = next(synthesis)
    assert first.size > 0 and child_processes("espeak-ng")
    synthesis.cancel()
    assert list(synthesis) == []
    assert child_processes("espeak-ng") == []  # killed and reaped


def test_flite_cancel_from_another_thread_while_it_synthesizes(flite_engine):
    synthesis = flite_engine.synthesize("This sentence goes on and on. " * 60, "slt")  # ~1 minute of audio
    output = synthesis._output_file
    timer = threading.Timer(0.05, synthesis.cancel)
    start = time.perf_counter()
    timer.start()
    assert list(synthesis) == []  # the reader was waiting for flite to finish
    assert time.perf_counter() - start < 0.5
    assert child_processes("flite") == [] and not output.exists()


def test_piper_cancel_stops_between_sentences(piper_engine):
    synthesis = piper_engine.synthesize("This sentence goes on and on. " * 20, "en_US-joe-medium")
    assert next(synthesis).size > 0
    synthesis.cancel()
    assert list(synthesis) == []


def test_a_failing_synthesizer_is_reported(espeak_engine):
    synthesis = espeak_engine.synthesize("Hello.", "xx-bogus")  # the catalog never lets this through
    with pytest.raises(RuntimeError, match="espeak-ng exited with 1"):
        next(synthesis)
    assert child_processes("espeak-ng") == []


def test_a_synthesizer_killed_from_outside_is_unavailable_not_internal(espeak_engine):
    """The OOM killer or a replica going down kills the child: the caller may retry, so UNAVAILABLE."""
    synthesis = espeak_engine.synthesize("This sentence goes on and on. " * 60, "en-us")
    assert next(synthesis).size > 0
    os.kill(synthesis._proc.pid, signal.SIGKILL)
    with pytest.raises(Unavailable, match="espeak-ng was stopped by SIGKILL"):
        while True:  # the audio already in the pipe comes first
            next(synthesis)
    assert child_processes("espeak-ng") == []
