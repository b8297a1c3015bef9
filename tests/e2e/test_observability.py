"""What an SRE sees of real calls through the public API, with all five processes observed:
- one trace per call across them: a real OTLP receiver (opentelemetry-proto's TraceService on a
  loopback gRPC port) gets the spans of the gateway and of the four stage servers, which must hang
  together under the caller's traceparent;
- each process's Prometheus /metrics, scraped after a real turn: the histograms and counters moved."""
from __future__ import annotations

import tempfile
import time
import urllib.request

import pytest

from bench.trace_tree import exporter_env, one_turn, receiving
from soundloop import telemetry
from soundloop.local_stack import local_stack

pytestmark = pytest.mark.e2e

SERVICES = {"soundloop-gateway", "soundloop-encoder", "soundloop-decider", "soundloop-llm", "soundloop-tts"}


@pytest.fixture(scope="module")
def receiver():
    with receiving() as (received, port):
        yield received, port


@pytest.fixture(scope="module")
def observed(receiver, redis_url):
    _, port = receiver
    with tempfile.TemporaryDirectory(prefix="soundloop-observed-logs-") as logs, \
            local_stack("light", redis_url, log_dir=logs, extra_env=exporter_env(port), metrics=True) as stack:
        yield stack


@pytest.fixture(scope="module")
def traced_gateway(observed):
    return observed.gateway_address


def _attrs(span) -> dict:
    return {a.key: next(iter(a.value.ListFields()))[1] if a.value.ListFields() else None for a in span.attributes}


async def test_one_turn_is_one_trace_across_gateway_and_stages(receiver, traced_gateway):
    received, _ = receiver
    trace_id, parent_id, record = await one_turn(traced_gateway, received)
    session_id = record.of("session_started")[0].event.session_started.session_id
    (turn_id,) = {e.event.turn_started.turn_id for e in record.of("turn_started")}

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        mine = received.trace(trace_id)
        names = {s.name for _, s in mine}
        if {telemetry.SESSION, telemetry.LLM_GENERATE_STAGE, telemetry.TTS_SYNTHESIZE} <= names:
            break
        time.sleep(0.2)
    assert {service for service, _ in mine} == SERVICES, sorted({(service, s.name) for service, s in mine})

    by_name: dict[str, list] = {}
    for service, span in mine:
        by_name.setdefault(span.name, []).append((service, span))
    (session,) = [s for _, s in by_name[telemetry.SESSION]]
    assert session.parent_span_id.hex() == parent_id  # the caller's span is the session's parent
    assert _attrs(session)[telemetry.SESSION_ID] == session_id
    (turn,) = [s for _, s in by_name[telemetry.TURN]]
    assert turn.parent_span_id == session.span_id
    assert _attrs(turn)[telemetry.TURN_ID] == turn_id

    # The reply's LLM call: a child of the turn, or of the session when it was speculated (started on the
    # caller's words before the decision, then adopted by the turn).
    generate = [s for _, s in by_name[telemetry.LLM_GENERATE_STAGE]
                if s.parent_span_id in (turn.span_id, session.span_id)]
    assert generate
    llm = _attrs(generate[-1])
    assert llm[telemetry.GEN_AI_MODEL] and llm[telemetry.GEN_AI_OUTPUT_TOKENS] > 0
    assert llm[telemetry.SESSION_ID] == session_id
    synth = [s for _, s in by_name[telemetry.TTS_SYNTHESIZE] if s.parent_span_id == turn.span_id]
    assert synth, "the reply's speech is synthesized under the turn"
    assert _attrs(synth[0])[telemetry.TTS_CHARACTERS] > 0 and _attrs(synth[0])[telemetry.TURN_ID] == turn_id
    (recognized, *_) = [s for _, s in by_name[telemetry.ENCODER_TRANSCRIBE]]
    assert recognized.parent_span_id in (session.span_id, turn.span_id)
    assert _attrs(recognized)[telemetry.AUDIO_SECONDS] > 0.5 and _attrs(recognized)[telemetry.SESSION_ID] == session_id
    decisions = [_attrs(s) for _, s in by_name[telemetry.DECIDER_DECIDE]]
    assert "ACTION_RESPOND" in {d[telemetry.DECISION_ACTION] for d in decisions}
    # Per-chunk calls make no spans: a handful of decisions, not ten a second.
    assert len(decisions) < 10
    for service, span in mine:
        assert span.end_time_unix_nano >= span.start_time_unix_nano, (service, span.name)


def _scrape(port: int) -> dict[str, float]:
    """Prometheus text format -> {'name{labels}': value} (comments dropped)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def _total(samples: dict[str, float], name: str, **labels: str) -> float:
    """The sum of `name` over the series whose labels include `labels`."""
    want = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(v for series, v in samples.items()
               if series.split("{")[0] == name and all(w in series for w in want))


async def test_every_process_exposes_metrics_that_move_with_a_real_turn(observed, receiver):
    received, _ = receiver
    await one_turn(observed.gateway_address, received, "What is two plus two?")
    ports = observed.metrics_ports
    assert set(ports) == {"gateway", "encoder", "llm", "decider", "tts"}
    gateway = _scrape(ports["gateway"])
    assert _total(gateway, "soundloop_turn_voice_to_voice_seconds_count") >= 1
    assert _total(gateway, "soundloop_turn_voice_to_voice_seconds_bucket", le="10.0") >= 1
    assert _total(gateway, "soundloop_turn_end_of_speech_to_decision_seconds_count") >= 1
    assert _total(gateway, "soundloop_stage_call_duration_seconds_count", stage="encoder",
                  method="AnalyzeChunk") > 10  # 10 a second of call
    assert _total(gateway, "soundloop_stage_call_duration_seconds_count", stage="llm", method="Generate") >= 1
    assert _total(gateway, "soundloop_sessions_total", outcome="started") >= 1
    assert _total(gateway, "soundloop_decisions_total", action="ACTION_RESPOND") >= 1
    assert _total(gateway, "soundloop_redis_operation_duration_seconds_count", operation="save_progress") >= 1
    names = {series.split("{")[0] for series in gateway}
    assert {"soundloop_sessions_active", "soundloop_sessions_audio_backlog_seconds"} <= names
    for stage, operation in (("encoder", "transcribe_utterance"), ("llm", "generate"), ("decider", "decide"),
                             ("tts", "synthesize")):
        samples = _scrape(ports[stage])
        assert _total(samples, "soundloop_stage_work_duration_seconds_count", stage=stage,
                      operation=operation) >= 1, stage
