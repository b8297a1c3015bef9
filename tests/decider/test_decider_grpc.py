"""The decider behind its real gRPC server on loopback, standalone, and as a Ray Serve deployment (in-process)."""

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.decider.servicer import SERVICE_NAME, register
from services.decider.stage import DeciderStage
from soundloop.decider.v1 import decider_pb2, decider_pb2_grpc
from soundloop.grpc_server import start_server
from soundloop.settings import load_settings
from soundloop.v1 import interaction_pb2 as api
from tests.support.end_of_turn import ScriptedEstimator
from tests.support.stage_process import stage_server

pytestmark = pytest.mark.integration

QUESTION = decider_pb2.Observation(now_ms=1500, silence_ms=300, utterance=1, transcript="What time is it?",
                                   transcript_is_final=True)


@pytest_asyncio.fixture(scope="module")
async def channel():
    stage = DeciderStage.from_settings(load_settings(profile="light"))
    server, port = await start_server("127.0.0.1:0", [register(stage)])
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        yield ch
    await server.stop(None)
    stage.close()


async def test_decide_over_grpc(channel):
    stub = decider_pb2_grpc.DeciderStub(channel)
    response = await stub.Decide(decider_pb2.DecideRequest(observation=QUESTION), timeout=10)
    assert response.decision.action == api.ACTION_RESPOND
    assert response.end_of_turn_probability > 0.5
    assert response.state.eot_text == "What time is it?"
    assert response.state.answered_utterance == 1
    # The returned state goes back in with the next chunk: answered, so nothing more to do.
    later_obs = decider_pb2.Observation(now_ms=1600, silence_ms=400, utterance=1,
                                             transcript="What time is it?", transcript_is_final=True)
    later = await stub.Decide(decider_pb2.DecideRequest(state=response.state, observation=later_obs), timeout=10)
    assert later.decision.action == api.ACTION_KEEP_LISTENING


async def test_unknown_sound_label_is_invalid_argument(channel):
    stub = decider_pb2_grpc.DeciderStub(channel)
    policy = decider_pb2.DeciderPolicy(sound_policy=api.SoundPolicy(respond_labels=["Smoke alarm"]))
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.Decide(decider_pb2.DecideRequest(observation=QUESTION, policy=policy), timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "'Smoke alarm'" in error.value.details()


async def test_health_reports_serving(channel):
    health = health_pb2_grpc.HealthStub(channel)
    reply = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_serve_deployment_returns_the_same_proto():
    from ray import serve

    from services.decider.deployment import DeciderDeployment

    handle = serve.run(DeciderDeployment.bind({"profile": "light"}), name="decider-test",
                       _local_testing_mode=True)
    response = await handle.decide.remote(decider_pb2.DecideRequest(observation=QUESTION))
    assert isinstance(response, decider_pb2.DecideResponse)
    assert response.decision.action == api.ACTION_RESPOND


async def test_standalone_server_serves_and_stops_on_sigterm():
    async with stage_server("decider") as server:
        async with grpc.aio.insecure_channel(server.address) as ch:
            response = await decider_pb2_grpc.DeciderStub(ch).Decide(
                decider_pb2.DecideRequest(observation=QUESTION), timeout=10)
        assert response.decision.action == api.ACTION_RESPOND
        await server.stop()


async def test_a_failing_estimator_is_internal_not_invalid_argument():
    stage = DeciderStage(ScriptedEstimator({}, default=None))  # raises KeyError on any transcript
    server, port = await start_server("127.0.0.1:0", [register(stage)])
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await decider_pb2_grpc.DeciderStub(ch).Decide(decider_pb2.DecideRequest(observation=QUESTION),
                                                              timeout=10)
        assert error.value.code() == grpc.StatusCode.INTERNAL
        assert "What time" not in error.value.details()  # no caller content in the status
    finally:
        await server.stop(None)
        stage.close()
