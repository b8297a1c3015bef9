"""The real encoder stage, shared by the encoder tests (tests/conftest.py sets the model-runtime environment)."""
import pytest

from soundloop.settings import load_settings


@pytest.fixture(scope="session")
def light_settings():
    return load_settings(profile="light")


@pytest.fixture(scope="session")
def encoder_stage(light_settings):
    """EncoderStage on the light profile (whisper-tiny.en), loaded once for all encoder tests."""
    from services.encoder.stage import EncoderStage

    stage = EncoderStage.from_settings(light_settings)
    yield stage
    stage.close()
