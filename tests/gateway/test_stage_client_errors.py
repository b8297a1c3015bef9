"""Stage failures as the gateway sees them: real stage servers on loopback behind GrpcStageClients.

The decider runs with a scripted end-of-turn estimator (a transcript it was not given raises
KeyError, an unexpected failure carrying caller content); the LLM stage runs its OpenAI backend
against a small real HTTP endpoint on loopback that answers what the test asks of it.
"""
from __future__ import annotations

import logging
import socket

import grpc
import pytest
from aiohttp import web

from services.decider import servicer as decider_servicer
from services.decider.stage import DeciderStage
from services.gateway.stage_clients import GrpcStageClients
from services.llm import servicer as llm_servicer
from services.llm.openai_backend import OpenAIBackend
from services.llm.stage import LlmStage
from soundloop import errors
from soundloop.audio import codec
from soundloop.decider.v1 import decider_pb2
from soundloop.encoder.v1 import encoder_pb2
from soundloop.grpc_server import start_server
from soundloop.llm.v1 import llm_pb2, llm_pb2_grpc
from soundloop.settings import StageAddresses
from soundloop.tts.v1 import tts_pb2
from soundloop.v1 import interaction_pb2 as api
from tests.support.end_of_turn import ScriptedEstimator

pytestmark = pytest.mark.integration

QUESTION = decider_pb2.Observation(now_ms=1500, silence_ms=300, utterance=1, transcript="What time is it?",
                                   transcript_is_final=True)
# The test LLM endpoint's (HTTP status, body) for each user message.
ENDPOINT_ANSWERS = {
    "busy": (503, "model loading"),
    "upstream error": (200, 'data: {"error": "quota of key sk-live-1234 exceeded"}\n\n'),
    "malformed": (200, 'data: {"choices": [{"delta": "not an object"}]}\n\n'),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def chat_completions(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    status, text = ENDPOINT_ANSWERS[body["messages"][-1]["content"]]
    if status != 200:
        return web.Response(status=status, text=text)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(text.encode())
    return response


@pytest.fixture(scope="module")
async def llm_endpoint():
    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat_completions)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/v1"
    await runner.cleanup()


@pytest.fixture(scope="module")
async def llm_address(llm_endpoint):
    stage = LlmStage(OpenAIBackend(llm_endpoint, model="m", connect_timeout_s=2), default_max_tokens=8)
    server, port = await start_server("127.0.0.1:0", [(
        llm_pb2_grpc.add_LlmServicer_to_server, llm_servicer.LlmServicer(stage), llm_servicer.SERVICE_NAME)])
    yield f"127.0.0.1:{port}"
    await server.stop(None)
    await stage.close()


@pytest.fixture(scope="module")
async def stages(llm_address):
    decider = DeciderStage(ScriptedEstimator({}, default=None))
    server, port = await start_server("127.0.0.1:0", [decider_servicer.register(decider)])
    nobody = f"127.0.0.1:{free_port()}"  # no encoder or TTS server runs here
    clients = GrpcStageClients(StageAddresses(encoder=nobody, llm=llm_address, decider=f"127.0.0.1:{port}",
                                              tts=nobody))
    yield clients
    await clients.close()
    await server.stop(None)
    decider.close()


def ask(content: str) -> llm_pb2.GenerateRequest:
    return llm_pb2.GenerateRequest(session_id="s", turn_id="t", messages=[
        llm_pb2.ChatMessage(role=llm_pb2.ROLE_USER, content=content)])


async def drain(stream) -> None:
    async for _ in stream:
        pass


async def test_a_bad_policy_comes_back_as_invalid_request_with_the_deciders_message(stages):
    policy = decider_pb2.DeciderPolicy(turn_detection=api.TurnDetection(max_silence_ms=12000))
    with pytest.raises(errors.InvalidRequest) as caught:
        await stages.decide(decider_pb2.DecideRequest(observation=QUESTION, policy=policy))
    err = caught.value
    assert (err.stage, err.code, err.retryable) == ("decider", grpc.StatusCode.INVALID_ARGUMENT, False)
    assert str(err) == "policy.turn_detection.max_silence_ms is 12000; the limit is 10000"


async def test_an_unexpected_failure_keeps_its_text_in_the_stages_log(stages, caplog):
    with caplog.at_level(logging.ERROR, logger="soundloop.errors"), pytest.raises(errors.Internal) as caught:
        await stages.decide(decider_pb2.DecideRequest(observation=QUESTION))  # KeyError('What time is it?')
    err = caught.value
    assert (err.stage, err.retryable) == ("decider", False)
    assert str(err) == "the decider stage failed; see its log"
    assert errors.status_of(err, "gateway") == (grpc.StatusCode.INTERNAL, "the decider stage failed; see its log")
    logged = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], KeyError)]
    assert logged and "decider stage: Decide failed" in logged[0].getMessage()


async def test_a_stage_that_is_not_running_is_unavailable(stages):
    with pytest.raises(errors.Unavailable) as caught:
        await stages.transcribe_clip(encoder_pb2.TranscribeClipRequest(audio=b"\0\0"))
    assert (caught.value.stage, caught.value.retryable) == ("encoder", True)
    with pytest.raises(errors.Unavailable):
        await drain(stages.synthesize(tts_pb2.SynthesizeRequest(text="Hello.")))


async def test_a_bad_streamed_request_is_invalid_request(stages):
    with pytest.raises(errors.InvalidRequest) as caught:
        await drain(stages.generate(llm_pb2.GenerateRequest()))
    assert caught.value.stage == "llm"
    assert str(caught.value).startswith("messages is empty")


async def test_a_busy_backend_is_unavailable_and_retryable(stages):
    with pytest.raises(errors.Unavailable) as caught:
        await drain(stages.generate(ask("busy")))
    assert caught.value.retryable and caught.value.stage == "llm"
    assert "HTTP 503" in str(caught.value)


async def test_a_backend_error_is_internal_and_callers_see_only_where_to_look(stages):
    with pytest.raises(errors.Internal) as caught:
        await drain(stages.generate(ask("upstream error")))
    assert "mid-stream" in str(caught.value)  # the stage's own message, for the gateway's log
    code, message = errors.status_of(caught.value, "gateway")
    assert (code, message) == (grpc.StatusCode.INTERNAL, "the llm stage failed; see its log")
    assert "sk-live" not in message


async def test_an_unexpected_exception_mid_stream_is_internal_without_its_text(llm_address, caplog):
    async with grpc.aio.insecure_channel(llm_address) as channel:
        with caplog.at_level(logging.ERROR, logger="soundloop.errors"), \
                pytest.raises(grpc.aio.AioRpcError) as caught:
            await drain(llm_pb2_grpc.LlmStub(channel).Generate(ask("malformed")))
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert caught.value.details() == "the llm stage failed; see its log"
    logged = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], AttributeError)]
    assert logged and "Generate (session 's', turn 't') failed" in logged[0].getMessage()


async def test_through_serve_handles_the_same_errors_come_back():
    from ray import serve

    from services.decider.deployment import DeciderDeployment
    from services.gateway.stage_clients import ServeStageClients
    from services.tts.deployment import TtsDeployment

    # Local testing mode runs the replicas in this process, without a Ray cluster to shut down.
    tts = serve.run(TtsDeployment.bind({"profile": "light"}), name="tts-errors", _local_testing_mode=True)
    decider = serve.run(DeciderDeployment.bind({"profile": "light"}), name="decider-errors",
                        _local_testing_mode=True)
    stages = ServeStageClients(encoder=None, llm=None, decider=decider, tts=tts)
    with pytest.raises(errors.InvalidRequest) as caught:  # streamed
        await drain(stages.synthesize(tts_pb2.SynthesizeRequest(
            text="Hi.", voice="nobody", output_format=codec.Format(codec.PCM16, 16000).to_proto())))
    assert caught.value.stage == "tts" and "unknown voice 'nobody'" in str(caught.value)
    policy = decider_pb2.DeciderPolicy(sound_policy=api.SoundPolicy(min_score=1.5))
    with pytest.raises(errors.InvalidRequest) as caught:  # unary
        await stages.decide(decider_pb2.DecideRequest(observation=QUESTION, policy=policy))
    assert caught.value.stage == "decider" and "min_score must be in [0, 1]" in str(caught.value)
