"""TtsDeployment in Serve's local testing mode: the same streamed protos, errors as ValueError."""
import pytest
from tts_speech import GREETING, request

from soundloop.audio import codec
from soundloop.tts.v1 import tts_pb2

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def handle():
    from ray import serve

    from services.tts.deployment import TtsDeployment

    # Local testing mode runs the replica in this process, without a Ray cluster to shut down.
    return serve.run(TtsDeployment.bind({"profile": "light"}), _local_testing_mode=True)


async def test_synthesize_streams_through_the_handle(handle):
    fmt = codec.Format(codec.PCM16, 16000)
    pieces = [p async for p in handle.options(stream=True).synthesize.remote(request(GREETING, fmt=fmt))]
    assert all(isinstance(p, tts_pb2.SynthesizeResponse) for p in pieces)
    assert 0.5 < sum(len(p.audio) for p in pieces) / 2 / 16000 < 4
    assert "flite:slt" in await handle.voices.remote()


async def test_bad_request_is_a_value_error(handle):
    with pytest.raises(ValueError, match="unknown voice"):
        async for _ in handle.options(stream=True).synthesize.remote(request("Hi.", voice="nobody")):
            pass
