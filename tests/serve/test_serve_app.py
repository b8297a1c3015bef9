"""The Ray Serve application on a real local Ray cluster, run from its Serve config file as
`soundloop serve` runs it: sized by that file, the gateway replica's own gRPC port serves
callers, and the stages are reached through DeploymentHandles. Observed as in process mode: a
real OTLP receiver gets every replica's spans, and the Ray node's metrics port serves every
replica's soundloop metrics beside Ray's."""
from __future__ import annotations

import asyncio
import time

import pytest

from bench.trace_tree import exporter_env, one_turn, receiving
from soundloop.client import CallerScript, converse
from soundloop.local_redis import free_port
from soundloop.serve_runner import APP_NAME, load_serve_config, serve_app
from soundloop.v1 import audio_pb2, interaction_pb2 as pb
from tests.support import observed
from tests.support.audio import RATE, join, silence, speak

pytestmark = [pytest.mark.serve, pytest.mark.e2e]


@pytest.fixture(scope="module")
def receiver():
    with receiving() as (received, port):
        yield received, port


@pytest.fixture(scope="module")
def ray_metrics_port():
    return free_port()


@pytest.fixture(scope="module")
def serve_gateway(redis_url, receiver, ray_metrics_port):
    with serve_app("light", redis_url, free_port(), progress=lambda _: None, env=exporter_env(receiver[1]),
                   metrics_port=ray_metrics_port) as address:
        yield address


def test_the_running_app_is_sized_by_its_serve_config(serve_gateway):
    from ray.serve.context import _get_global_client
    from ray.serve.schema import ServeInstanceDetails

    # What `serve status`/the dashboard read: the controller's view of each deployment.
    details = ServeInstanceDetails(**_get_global_client().get_serve_details())
    running = details.applications[APP_NAME].deployments
    (app,) = load_serve_config("light")["applications"]
    assert set(running) == {d["name"] for d in app["deployments"]}
    for want in app["deployments"]:
        got = running[want["name"]]
        config = got.deployment_config.model_dump(exclude_unset=True)
        assert config["max_ongoing_requests"] == want["max_ongoing_requests"], want["name"]
        assert config["ray_actor_options"]["num_cpus"] == want["ray_actor_options"]["num_cpus"], want["name"]
        assert got.required_resources.get("CPU", 0) == want["ray_actor_options"]["num_cpus"], want["name"]
        for resource, amount in want["ray_actor_options"].get("resources", {}).items():
            assert got.required_resources.get(resource) == amount, (want["name"], resource)
        scaling = want.get("autoscaling_config")
        if scaling:
            assert (config["autoscaling_config"]["min_replicas"], config["autoscaling_config"]["max_replicas"]) == (
                scaling["min_replicas"], scaling["max_replicas"]), want["name"]
        replicas = want["num_replicas"] if "num_replicas" in want else scaling["min_replicas"]
        assert len([r for r in got.replicas if r.state == "RUNNING"]) == replicas, want["name"]


async def test_a_spoken_question_is_answered_through_serve(serve_gateway):
    fmt = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)
    audio = join(silence(0.4), speak("What color is the sky?"), silence(0.2))
    record = await converse(serve_gateway, pb.SessionConfig(input_audio=fmt), CallerScript(audio, RATE))

    finals = record.final_transcripts()
    assert finals and "sky" in finals[0].lower(), finals
    assert record.reply_text().strip()
    assert record.reply_audio
    completed = record.of("turn_completed")
    assert completed and completed[0].event.turn_completed.metrics.HasField("voice_to_voice")


async def test_one_turn_under_serve_is_one_trace_across_gateway_and_stages(serve_gateway, receiver):
    received, _ = receiver
    trace_id, parent_id, record = await one_turn(serve_gateway, received)
    # Serve handles carry no context: the gateway passes a W3C carrier as the `trace` argument.
    observed.assert_one_trace_across_the_processes(received, observed.wait_for_trace(received, trace_id),
                                                   parent_id, record)


async def test_every_replica_s_metrics_are_on_the_ray_node_metrics_port(serve_gateway, receiver, ray_metrics_port):
    received, _ = receiver
    await one_turn(serve_gateway, received, "What is two plus two?")
    moves = observed.GATEWAY_MOVES + [move for stage in observed.STAGE_WORK for move in observed.stage_moves(stage)]
    gauges = {"ray_soundloop_sessions_active", "ray_soundloop_sessions_audio_backlog_seconds"}
    # Replicas report to Ray's metrics agent every few seconds; it serves them with Ray's own, prefixed ray_.
    deadline = time.monotonic() + 60
    while True:
        samples = observed.scrape(ray_metrics_port)
        missing = observed.shortfalls(samples, moves, prefix="ray_")
        missing += sorted(gauges - {series.split("{")[0] for series in samples})
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert not missing
    assert any(series.startswith("ray_serve_") for series in samples)  # beside Serve's own metrics


# Last in this module: they kill replicas of the shared app (Serve starts new ones).
def _replica(deployment: str) -> str:
    import ray
    (name,) = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
               if a["name"].startswith(f"SERVE_REPLICA::{APP_NAME}#{deployment}#")]
    return name


def _kill(name: str) -> None:
    import ray
    ray.kill(ray.get_actor(name, namespace="serve"), no_restart=True)


async def _replaced(deployment: str, killed: str, timeout_s: float = 120) -> float:
    """Waits until Serve runs a new replica of `deployment` and calls it healthy; the seconds waited."""
    from ray import serve
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            fresh = _replica(deployment) != killed
        except ValueError:  # none, or the old one and the new one at once
            fresh = False
        if fresh and serve.status().applications[APP_NAME].deployments[deployment].status == "HEALTHY":
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    raise AssertionError(f"no new {deployment} replica within {timeout_s} s")


@pytest.mark.parametrize("deployment", ["Encoder", "Decider"])
async def test_a_killed_per_chunk_replica_mid_call_loses_nothing(serve_gateway, deployment):
    name = _replica(deployment)
    fmt = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)
    audio = join(silence(0.4), speak("What color is the sky?"), silence(0.3))

    async def kill_soon():
        await asyncio.sleep(0.3)  # as the caller starts to speak
        await asyncio.to_thread(_kill, name)

    killing = asyncio.create_task(kill_soon())
    record = await converse(serve_gateway, pb.SessionConfig(input_audio=fmt),
                            CallerScript(audio, RATE, tail_s=25.0))
    await killing
    sequences = [e.event.sequence for e in record.events]
    assert sequences == list(range(1, len(sequences) + 1))
    assert not record.of("error"), [e.event.error for e in record.of("error")]
    assert "sky" in " ".join(record.final_transcripts()).lower()
    assert record.of("turn_completed")
    print(f"\n{deployment} replica killed: answered {record.of('turn_completed')[0].at:.1f} s into the call, "
          "no error")
    await _replaced(deployment, name)


@pytest.mark.parametrize("deployment,first_event", [("Llm", "reply_text"), ("Tts", "reply_audio")])
async def test_a_killed_reply_replica_mid_reply_ends_that_reply_and_the_session_goes_on(
        serve_gateway, deployment, first_event):
    """The replica dies as the reply reaches the caller. A call in flight on it fails: that reply ends with
    an UNAVAILABLE error event and keeps only what was heard. A call made after Serve's router has dropped
    the dead replica waits for its replacement (a TTS replica killed between two clauses, seen in CI): the
    reply then goes on, late but whole. Either way nothing is lost, and once Serve has replaced the replica
    the resumed session's next question is answered."""
    name = _replica(deployment)
    fmt = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)
    killing: list[asyncio.Task] = []

    def kill_on_first(received) -> None:
        if received.kind == first_event and not killing:
            killing.append(asyncio.get_running_loop().create_task(asyncio.to_thread(_kill, name)))

    audio = join(silence(0.4), speak("Tell me a long story about a brave knight and a dragon."), silence(0.3))
    record = await converse(serve_gateway, pb.SessionConfig(input_audio=fmt),
                            CallerScript(audio, RATE, tail_s=25.0, stop_after_turns=1), on_event=kill_on_first)
    assert killing, "no reply started"
    await killing[0]
    errors = [e.event.error for e in record.of("error")]
    assert all(e.code == "UNAVAILABLE" for e in errors), errors
    (ended,) = record.of("turn_completed")
    streamed = "".join(e.event.reply_text.delta for e in record.of("reply_text"))
    kept = ended.event.turn_completed.text.split()
    if errors:
        assert streamed.split()[:len(kept)] == kept, (kept, streamed)  # what was heard, no more
    else:  # the kill fell between two synthesis calls: the next one waited for the new replica
        assert deployment == "Tts", "the generation was in flight at its first text: its failure must show"
        assert kept == streamed.split(), (kept, streamed)
    waited = await _replaced(deployment, name)

    again = join(silence(0.4), speak("What is the capital of France?"), silence(0.3))
    resumed = await converse(serve_gateway, pb.SessionConfig(input_audio=fmt, resume_token=record.resume_token,
                                                             replay_after_sequence=record.events[-1].event.sequence),
                             CallerScript(again, RATE, tail_s=25.0, stop_after_turns=1))
    assert not resumed.of("error"), [e.event.error for e in resumed.of("error")]
    assert resumed.of("turn_completed")[-1].event.turn_completed.text.strip()
    outcome = errors[0].code if errors else "no error, the next call waited for the new replica"
    print(f"\n{deployment} replica killed at the first {first_event}: {outcome}, kept {len(kept)} of "
          f"{len(streamed.split())} words; replaced in {waited:.0f} s; the resumed session answered")
