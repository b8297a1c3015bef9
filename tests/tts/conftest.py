"""Real engines and a real TTS stage, loaded once for all TTS tests.

tests/conftest.py sets OMP_WAIT_POLICY and HF_HUB_OFFLINE before anything loads.
"""
import pytest


@pytest.fixture(scope="session")
def espeak_engine():
    from services.tts.command_engines import EspeakEngine

    return EspeakEngine()


@pytest.fixture(scope="session")
def flite_engine():
    from services.tts.command_engines import FliteEngine

    return FliteEngine()


@pytest.fixture(scope="session")
def piper_engine():
    from services.tts.piper_engine import PiperEngine

    return PiperEngine.from_models()


@pytest.fixture(scope="session")
def tts_stage(espeak_engine, flite_engine, piper_engine):
    """All three engines; espeak-ng is the default, as in the light profile."""
    from services.tts.stage import TtsStage
    from services.tts.voice_catalog import VoiceCatalog

    engines = {"espeak-ng": espeak_engine, "flite": flite_engine, "piper": piper_engine}
    stage = TtsStage(VoiceCatalog(engines, "espeak-ng"))
    yield stage
    stage.close()


@pytest.fixture(scope="session")
def whisper():
    from faster_whisper import WhisperModel

    from soundloop.models import model_path

    return WhisperModel(str(model_path("whisper-tiny.en")), device="cpu", compute_type="int8", cpu_threads=2)
