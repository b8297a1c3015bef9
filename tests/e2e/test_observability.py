"""What an SRE sees of real calls through the public API, with all five processes observed:
- one trace per call across them: a real OTLP receiver (opentelemetry-proto's TraceService on a
  loopback gRPC port) gets the spans of the gateway and of the four stage servers, which must hang
  together under the caller's traceparent;
- each process's Prometheus /metrics, scraped after a real turn: the histograms and counters moved."""
from __future__ import annotations

import tempfile

import pytest

from bench.trace_tree import exporter_env, one_turn, receiving
from soundloop.local_stack import local_stack
from tests.support import observed

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def receiver():
    with receiving() as (received, port):
        yield received, port


@pytest.fixture(scope="module")
def observed_stack(receiver, redis_url):
    _, port = receiver
    with tempfile.TemporaryDirectory(prefix="soundloop-observed-logs-") as logs, \
            local_stack("light", redis_url, log_dir=logs, extra_env=exporter_env(port), metrics=True) as stack:
        yield stack


@pytest.fixture(scope="module")
def traced_gateway(observed_stack):
    return observed_stack.gateway_address


async def test_one_turn_is_one_trace_across_gateway_and_stages(receiver, traced_gateway):
    received, _ = receiver
    trace_id, parent_id, record = await one_turn(traced_gateway, received)
    observed.assert_one_trace_across_the_processes(received, observed.wait_for_trace(received, trace_id),
                                                   parent_id, record)


async def test_every_process_exposes_metrics_that_move_with_a_real_turn(observed_stack, receiver):
    received, _ = receiver
    await one_turn(observed_stack.gateway_address, received, "What is two plus two?")
    ports = observed_stack.metrics_ports
    assert set(ports) == {"gateway", "encoder", "llm", "decider", "tts"}
    gateway = observed.scrape(ports["gateway"])
    assert not observed.shortfalls(gateway, observed.GATEWAY_MOVES)
    names = {series.split("{")[0] for series in gateway}
    assert {"soundloop_sessions_active", "soundloop_sessions_audio_backlog_seconds"} <= names
    for stage in observed.STAGE_WORK:
        assert not observed.shortfalls(observed.scrape(ports[stage]), observed.stage_moves(stage)), stage
