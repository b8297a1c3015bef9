"""EncoderDeployment in Serve's local testing mode: same methods, same protos, errors as ValueError."""
import pytest

from soundloop.audio import codec
from soundloop.encoder.v1 import encoder_pb2 as pb

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def handle():
    from ray import serve

    from services.encoder.deployment import EncoderDeployment

    # Local testing mode runs the replica in this process, without a Ray cluster to shut down.
    return serve.run(EncoderDeployment.bind({"profile": "light"}), _local_testing_mode=True)


async def test_handle_methods_return_protos(handle):
    fmt = codec.Format(codec.PCM16, 16000)
    resp = await handle.analyze_chunk.remote(pb.AnalyzeChunkRequest(format=fmt.to_proto(), audio=b"\0\0" * 1600))
    assert isinstance(resp, pb.AnalyzeChunkResponse) and len(resp.pcm16k) == 3200 and resp.stream_state
    with pytest.raises(ValueError, match="even byte count"):
        await handle.analyze_chunk.remote(pb.AnalyzeChunkRequest(format=fmt.to_proto(), audio=b"\0" * 3))
    text = await handle.transcribe_utterance.remote(pb.TranscribeUtteranceRequest(pcm16k=b"\0\0" * codec.MODEL_RATE))
    assert isinstance(text, pb.TranscribeUtteranceResponse) and text.text == ""
