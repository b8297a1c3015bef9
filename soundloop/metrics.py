"""OpenTelemetry metrics, exposed for Prometheus by every soundloop process.

`configure_metrics(service, port)` installs a MeterProvider whose Prometheus reader serves
/metrics on `port` (Settings.metrics_port, SOUNDLOOP_METRICS_PORT; 0: no endpoint, the
instruments are no-ops). Under Ray Serve, a replica given a port serves it beside Ray's own metrics agent.

Instrument names, units and histogram buckets live here and nowhere else. Prometheus sees
them with dots as underscores and the unit appended, e.g. `soundloop_turn_voice_to_voice_seconds`.
Recording is cheap (a dictionary lookup and an add), so per-chunk stage calls are counted too.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from opentelemetry import metrics

log = logging.getLogger(__name__)

# 10 ms to 10 s: a per-chunk stage call at the low end, a slow reply at the high end.
LATENCY_BUCKETS_S = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)

_meter = metrics.get_meter("soundloop")  # a proxy until configure_metrics installs the provider


# Every instrument's name by kind, for the checks that dashboards and alerts query real metrics.
HISTOGRAMS: list[str] = []  # unit s
COUNTERS: list[str] = []
GAUGES: dict[str, str] = {}  # name -> unit


def _latency(name: str, description: str) -> metrics.Histogram:
    HISTOGRAMS.append(name)
    return _meter.create_histogram(name, unit="s", description=description)


def _counter(name: str, description: str) -> metrics.Counter:
    COUNTERS.append(name)
    return _meter.create_counter(name, description=description)


# Turns, measured at the gateway (TurnMetrics of each finished or interrupted reply turn).
TURN_LATENCIES = {
    "voice_to_voice": _latency("soundloop.turn.voice_to_voice", "End of caller speech -> first reply audio sent"),
    "end_of_speech_to_decision": _latency("soundloop.turn.end_of_speech_to_decision",
                                          "End of caller speech -> respond decision"),
    "recognition": _latency("soundloop.turn.recognition", "Recognition of the answered transcript"),
    "llm_first_token": _latency("soundloop.turn.llm_first_token", "Respond decision -> first LLM token"),
    "tts_first_audio": _latency("soundloop.turn.tts_first_audio", "First clause -> its first synthesized audio"),
    "barge_in_stop": _latency("soundloop.turn.barge_in_stop", "Caller's barge-in onset -> last reply audio sent"),
}
STAGE_CALL = _latency("soundloop.stage.call.duration", "Gateway -> stage call, by stage and method "
                                                       "(streams: until the last item)")
STAGE_WORK = _latency("soundloop.stage.work.duration", "A stage's own work on one call, by stage and "
                                                        "operation (ASR decode, generation, synthesis)")
REDIS_OPERATION = _latency("soundloop.redis.operation.duration", "Session store operation, by operation")

GAUGES["soundloop.sessions.active"] = ""
SESSIONS_ACTIVE = _meter.create_up_down_counter("soundloop.sessions.active", description="Open Converse streams")
SESSIONS = _counter("soundloop.sessions", "Sessions by outcome: started, resumed, rejected (with reason)")
DECISIONS = _counter("soundloop.decisions", "Decider decisions acted on, by action")
ERRORS = _counter("soundloop.errors", "Errors of stage calls, by stage and gRPC status code")

AUDIO_BACKLOG = "soundloop.sessions.audio_backlog"
GAUGES[AUDIO_BACKLOG] = "s"


def observe_audio_backlog(read: Callable[[], Iterable[float]]) -> None:
    """Registers the gauge of how far processing is behind the callers: `read()` gives each open
    session's queued caller audio in seconds; the gauge reports the largest and the total
    (`stat` label), not one series per session."""
    def observe(_options) -> Iterable[metrics.Observation]:
        backlogs = list(read())
        yield metrics.Observation(max(backlogs, default=0.0), {"stat": "max"})
        yield metrics.Observation(sum(backlogs), {"stat": "sum"})
    _meter.create_observable_gauge(AUDIO_BACKLOG, callbacks=[observe], unit="s",
                                   description="Caller audio queued ahead of the stages: the largest and the total")


_configured = False


def configure_metrics(service_name: str, port: int) -> int:
    """Serves /metrics for Prometheus on `port` (Settings.metrics_port, SOUNDLOOP_METRICS_PORT; 0: no
    endpoint). Idempotent. Returns the port (0: metrics off)."""
    global _configured
    if _configured or not port:
        return port if _configured else 0
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.sdk.metrics import Histogram, MeterProvider
    from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
    from opentelemetry.sdk.resources import Resource
    from prometheus_client import start_http_server

    view = View(instrument_type=Histogram, instrument_name="soundloop.*",
                aggregation=ExplicitBucketHistogramAggregation(LATENCY_BUCKETS_S))
    provider = MeterProvider(metric_readers=[PrometheusMetricReader()], views=[view],
                             resource=Resource.create({"service.name": service_name}))
    try:
        start_http_server(port)
    except OSError as err:  # e.g. two Serve replicas on one node given the same port: serve, without metrics
        log.warning("metrics endpoint not started on port %d: %s", port, err)
        return 0
    metrics.set_meter_provider(provider)
    _configured = True
    log.info("metrics for Prometheus on port %d (/metrics)", port)
    return port
