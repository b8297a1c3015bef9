"""Random Converse message sequences against a real gateway on loopback (scripted stages, real
Redis): configs valid or not, first or later or twice, audio frames of any size, typed text,
playback reports, end of input, bytes that are no protobuf at all, cut off anywhere. For every
sequence the call ends within seconds with OK or a status that names the caller's mistake, and
never INTERNAL, UNKNOWN or a hang; a session that started says so first."""
from __future__ import annotations

import asyncio
import threading

import grpc
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from services.gateway.server import start_gateway
from services.gateway.session_config import InvalidConfig, normalize_config
from services.gateway.session_store import key_prefix
from soundloop.settings import EncoderSettings, Settings
from soundloop.v1 import audio_pb2, interaction_pb2 as pb

from .scripted_stages import ScriptedStages

pytestmark = pytest.mark.integration

PCM16K = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)
CALLER_MISTAKES = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND}


@pytest.fixture(scope="module")
def gateway_address(redis_url):
    """A real gateway on its own event loop in a thread, for the synchronous client below."""
    ready = threading.Event()
    address: list[str] = []
    stop: list = []  # (loop, event) of the gateway's thread

    def serve():
        async def main():
            stop.extend([asyncio.get_running_loop(), asyncio.Event()])
            gateway = await start_gateway(Settings(redis_url=redis_url), ScriptedStages([], {}, reply="Sure."),
                                          "127.0.0.1:0")
            address.append(f"127.0.0.1:{gateway.port}")
            ready.set()
            await stop[1].wait()
            await gateway.stop(grace_s=0)
        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(30)
    yield address[0]
    stop[0].call_soon_threadsafe(stop[1].set)
    thread.join(10)


def _message(kind: str, value) -> bytes:
    if kind == "garbage":
        return value
    if kind == "config":
        return pb.ConverseRequest(config=value).SerializeToString()
    if kind == "audio":
        return pb.ConverseRequest(audio=pb.AudioChunk(data=b"\x01" * value)).SerializeToString()
    if kind == "text":
        return pb.ConverseRequest(text=pb.TextInput(text=value)).SerializeToString()
    if kind == "playback":
        return pb.ConverseRequest(playback=pb.PlaybackReport(turn_id=value, samples_played=7)).SerializeToString()
    if kind == "end":
        return pb.ConverseRequest(end_of_input=pb.EndOfInput()).SerializeToString()
    return pb.ConverseRequest().SerializeToString()  # "empty": no message set


configs = st.one_of(
    st.just(pb.SessionConfig(input_audio=PCM16K)),
    st.just(pb.SessionConfig()),  # no input_audio
    st.just(pb.SessionConfig(input_audio=audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_MULAW))),
    st.just(pb.SessionConfig(input_audio=PCM16K, resume_token="no-such-token")),
    st.builds(lambda rate: pb.SessionConfig(input_audio=audio_pb2.AudioFormat(
        encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=rate)), st.integers(0, 50000)))
steps = st.one_of(
    st.tuples(st.just("config"), configs),
    st.tuples(st.just("audio"), st.integers(0, 8000)),  # 0 bytes, odd counts, over 200 ms
    st.tuples(st.just("text"), st.text(max_size=50)),
    st.tuples(st.just("playback"), st.sampled_from(["", "t1", "nope"])),
    st.tuples(st.just("end"), st.none()),
    st.tuples(st.just("empty"), st.none()),
    st.tuples(st.just("garbage"), st.binary(min_size=1, max_size=64)))


def _valid(config: pb.SessionConfig) -> bool:
    try:
        normalize_config(config, EncoderSettings())
        return True
    except InvalidConfig:
        return False


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(first=st.one_of(st.tuples(st.just("config"), configs), steps), rest=st.lists(steps, max_size=12))
def test_any_message_sequence_ends_with_ok_or_a_caller_mistake(gateway_address, first, rest):
    with grpc.insecure_channel(gateway_address) as channel:
        converse = channel.stream_stream("/soundloop.v1.Interaction/Converse", request_serializer=lambda b: b,
                                         response_deserializer=pb.ConverseResponse.FromString)
        call = converse(iter([_message(*step) for step in (first, *rest)]), timeout=20)
        events = []
        try:
            for event in call:
                events.append(event)
            code = grpc.StatusCode.OK
        except grpc.RpcError as err:
            code = err.code()
            assert code in CALLER_MISTAKES, (code, err.details(), first, rest)
            assert err.details(), code
    if first[0] == "config" and not first[1].resume_token and _valid(first[1]):
        assert events and events[0].WhichOneof("event") == "session_started", (first, events[:2])
    for event in events:
        if event.WhichOneof("event") == "error":
            assert event.error.code and event.error.message  # a rejected message says why; the call goes on


def test_an_oversized_converse_message_is_refused_and_the_call_goes_on(gateway_address):
    with grpc.insecure_channel(gateway_address) as channel:
        converse = channel.stream_stream("/soundloop.v1.Interaction/Converse", request_serializer=lambda b: b,
                                         response_deserializer=pb.ConverseResponse.FromString)
        messages = [_message("config", pb.SessionConfig(input_audio=PCM16K)), _message("text", "x" * 300_000),
                    _message("audio", 640), _message("end", None)]
        events = list(converse(iter(messages), timeout=20))
    (error,) = [e.error for e in events if e.WhichOneof("event") == "error"]
    assert error.code == "INVALID_ARGUMENT" and "over the 256 KiB limit" in error.message
    assert events[0].WhichOneof("event") == "session_started"


def test_a_session_the_caller_ended_leaves_redis_soon(gateway_address, redis_url):
    import redis
    with grpc.insecure_channel(gateway_address) as channel:
        converse = channel.stream_stream("/soundloop.v1.Interaction/Converse", request_serializer=lambda b: b,
                                         response_deserializer=pb.ConverseResponse.FromString)
        events = list(converse(iter([_message("config", pb.SessionConfig(input_audio=PCM16K)),
                                     _message("audio", 3200), _message("end", None)]), timeout=20))
    sid = events[0].session_started.session_id
    client = redis.Redis.from_url(redis_url)
    ttls = [client.ttl(key) for key in client.keys(key_prefix(sid) + ":*")]
    assert ttls and all(0 < ttl <= 300 for ttl in ttls), ttls  # SessionSettings.ended_ttl_s, not the 1 h resume TTL
