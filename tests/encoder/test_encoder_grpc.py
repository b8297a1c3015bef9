"""The encoder's gRPC servicer on loopback: real calls and the status codes of bad input."""
import grpc
import numpy as np
import pytest
from encoder_audio import HTS2A_8K, load, words
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.encoder.servicer import SERVICE_NAME, register
from soundloop.audio import codec
from soundloop.encoder.v1 import encoder_pb2 as pb, encoder_pb2_grpc
from soundloop.grpc_server import start_server
from soundloop.v1 import audio_pb2

pytestmark = pytest.mark.integration

PCM16K = codec.Format(codec.PCM16, 16000).to_proto()
MULAW = codec.Format(codec.MULAW, 8000).to_proto()


@pytest.fixture(scope="module")
async def channel(encoder_stage):
    server, port = await start_server("127.0.0.1:0", [register(encoder_stage)])
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        yield ch
    await server.stop(None)


@pytest.fixture(scope="module")
def stub(channel):
    return encoder_pb2_grpc.EncoderStub(channel)


async def test_health(channel):
    resp = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME))
    assert resp.status == health_pb2.HealthCheckResponse.SERVING


async def test_analyze_chunk_then_transcribe(stub):
    samples = load(HTS2A_8K, 8000)
    fmt = codec.Format(codec.MULAW, 8000)
    resp = await stub.AnalyzeChunk(pb.AnalyzeChunkRequest(format=MULAW, audio=codec.encode(fmt, samples)))
    assert resp.pcm_start_sample == 0
    assert len(resp.pcm16k) == 2 * (2 * samples.size - 64)  # 4 ms resampler delay held back
    assert resp.boundaries[0].kind == pb.BOUNDARY_KIND_SPEECH_START
    assert 0 < len(resp.stream_state) < 40_000
    # Prosody of a male voice (hts2a): voiced, loud, pitch well below 200 Hz (12 semitones over 100 Hz).
    assert resp.prosody.voiced > 0.3 and resp.prosody.energy_db > -40 and resp.prosody.vad_probability > 0.5
    assert 0 < resp.prosody.pitch_semitones < 12
    # The second chunk continues where the first stopped.
    more = await stub.AnalyzeChunk(pb.AnalyzeChunkRequest(
        format=MULAW, audio=codec.encode(fmt, np.zeros(800, np.float32)), stream_state=resp.stream_state))
    assert more.pcm_start_sample == len(resp.pcm16k) // 2
    text = await stub.TranscribeUtterance(
        pb.TranscribeUtteranceRequest(pcm16k=resp.pcm16k + more.pcm16k, is_final=True))
    assert {"chicken", "dish"} <= set(words(text.text)), text.text


async def test_transcribe_clip(stub):
    fmt = codec.Format(codec.PCM16, 8000)
    resp = await stub.TranscribeClip(pb.TranscribeClipRequest(
        format=fmt.to_proto(), audio=codec.encode(fmt, load(HTS2A_8K, 8000))))
    assert resp.duration_ms == 3000 and "chicken" in words(resp.text)


async def _stream_state(stub) -> bytes:
    resp = await stub.AnalyzeChunk(pb.AnalyzeChunkRequest(format=MULAW, audio=b"\xff" * 800))
    return resp.stream_state


async def test_bad_input_is_invalid_argument(stub):
    state = await _stream_state(stub)
    corrupt = bytearray(state)
    corrupt[len(corrupt) // 2] ^= 1
    bad_calls = {
        "sample_rate_hz": stub.AnalyzeChunk(pb.AnalyzeChunkRequest(
            format=audio_pb2.AudioFormat(encoding=codec.PCM16, sample_rate_hz=11025), audio=b"\0\0")),
        "G.711": stub.AnalyzeChunk(pb.AnalyzeChunkRequest(
            format=audio_pb2.AudioFormat(encoding=codec.MULAW, sample_rate_hz=16000), audio=b"\xff")),
        "encoding": stub.AnalyzeChunk(pb.AnalyzeChunkRequest(audio=b"\0\0")),
        "even byte count": stub.AnalyzeChunk(pb.AnalyzeChunkRequest(format=PCM16K, audio=b"\0\0\0")),
        "audio is empty": stub.AnalyzeChunk(pb.AnalyzeChunkRequest(format=PCM16K)),
        "corrupt": stub.AnalyzeChunk(pb.AnalyzeChunkRequest(format=MULAW, audio=b"\xff", stream_state=bytes(corrupt))),
        "cannot change": stub.AnalyzeChunk(pb.AnalyzeChunkRequest(
            format=codec.Format(codec.ALAW, 8000).to_proto(), audio=b"\xd5", stream_state=state)),
        "pcm16k is empty": stub.TranscribeUtterance(pb.TranscribeUtteranceRequest()),
        "even byte count ": stub.TranscribeUtterance(pb.TranscribeUtteranceRequest(pcm16k=b"\0\0\0")),
        "English only": stub.TranscribeUtterance(pb.TranscribeUtteranceRequest(pcm16k=b"\0\0" * 1600, language="fr")),
        "clip to transcribe": stub.TranscribeClip(pb.TranscribeClipRequest(format=PCM16K)),
    }
    for expected, call in bad_calls.items():
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, expected
        assert expected.strip() in err.value.details(), (expected, err.value.details())
