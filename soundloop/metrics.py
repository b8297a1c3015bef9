"""soundloop's metrics, exposed for Prometheus by every process, standalone or under Ray Serve.

Two ways out, one set of instruments:
- a standalone process (`configure_metrics(service, port)`): an OpenTelemetry MeterProvider whose
  Prometheus reader serves /metrics on `port` (Settings.metrics_port, SOUNDLOOP_METRICS_PORT);
- a Ray Serve replica (`configure_ray_metrics()`): Ray's own metrics API, which Ray's metrics agent
  exports on each node's metrics port beside Ray's and Serve's metrics, prefixed `ray_`
  (deploy/observe/kuberay-podmonitor.yaml strips the prefix). A port per replica would collide
  between replicas on one node and be unknown to Prometheus; the node's port is neither.
Until one is configured, recording is a no-op.

Instrument names, units, label keys and histogram buckets live here and nowhere else. Prometheus sees
the names with dots as underscores and the unit appended, e.g. `soundloop_turn_voice_to_voice_seconds`.
Recording is cheap (a label check and an add), so per-chunk stage calls are counted too.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping

from opentelemetry import metrics

log = logging.getLogger(__name__)

# 10 ms to 10 s: a per-chunk stage call at the low end, a slow reply at the high end.
LATENCY_BUCKETS_S = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
RAY_GAUGE_INTERVAL_S = 5.0  # how often observed gauges are read under Ray (Prometheus reads them on scrape)

_meter = metrics.get_meter("soundloop")  # a proxy until configure_metrics installs the provider

# Every instrument's name by kind, for the checks that dashboards and alerts query real metrics.
HISTOGRAMS: list[str] = []  # unit s
COUNTERS: list[str] = []
GAUGES: dict[str, str] = {}  # name -> unit


class _Instrument:
    """One instrument with fixed label keys, recorded through OpenTelemetry or Ray, whichever is on."""

    def __init__(self, name: str, description: str, labels: tuple[str, ...], prometheus_name: str):
        self.name, self.description, self.labels = name, description, labels
        self.prometheus_name = prometheus_name
        self._label_set = frozenset(labels)
        self._ray = None  # the ray.util.metrics instrument, once configure_ray_metrics ran

    def _checked(self, attributes: Mapping[str, str] | None) -> Mapping[str, str]:
        # Ray rejects undeclared label keys at run time; fail the same way everywhere, so tests catch it.
        if attributes and not attributes.keys() <= self._label_set:
            raise ValueError(f"{self.name}: labels {sorted(attributes.keys() - self._label_set)} not declared")
        return attributes or {}

    def _ray_tags(self, attributes: Mapping[str, str]) -> dict[str, str]:
        return {key: str(attributes.get(key, "")) for key in self.labels}


class Latency(_Instrument):
    def __init__(self, name: str, description: str, labels: tuple[str, ...] = ()):
        super().__init__(name, description, labels, name.replace(".", "_") + "_seconds")
        HISTOGRAMS.append(name)
        self._otel = _meter.create_histogram(name, unit="s", description=description)

    def record(self, seconds: float, attributes: Mapping[str, str] | None = None) -> None:
        attributes = self._checked(attributes)
        if self._ray is not None:
            self._ray.observe(seconds, tags=self._ray_tags(attributes))
        else:
            self._otel.record(seconds, attributes)

    def _to_ray(self, ray_metrics) -> None:
        self._ray = ray_metrics.Histogram(self.prometheus_name, description=self.description,
                                          boundaries=list(LATENCY_BUCKETS_S), tag_keys=self.labels)


class Count(_Instrument):
    def __init__(self, name: str, description: str, labels: tuple[str, ...] = ()):
        super().__init__(name, description, labels, name.replace(".", "_") + "_total")
        COUNTERS.append(name)
        self._otel = _meter.create_counter(name, description=description)

    def add(self, amount: int, attributes: Mapping[str, str] | None = None) -> None:
        attributes = self._checked(attributes)
        if self._ray is not None:
            self._ray.inc(amount, tags=self._ray_tags(attributes))
        else:
            self._otel.add(amount, attributes)

    def _to_ray(self, ray_metrics) -> None:
        self._ray = ray_metrics.Counter(self.prometheus_name, description=self.description, tag_keys=self.labels)


class Level(_Instrument):
    """A value that goes up and down (an OpenTelemetry UpDownCounter, a Ray Gauge of the running sum)."""

    def __init__(self, name: str, description: str):
        super().__init__(name, description, (), name.replace(".", "_"))
        GAUGES[name] = ""
        self._otel = _meter.create_up_down_counter(name, description=description)
        self._value = 0
        self._lock = threading.Lock()

    def add(self, delta: int) -> None:
        if self._ray is None:
            self._otel.add(delta)
            return
        with self._lock:
            self._value += delta
            self._ray.set(self._value)

    def _to_ray(self, ray_metrics) -> None:
        self._ray = ray_metrics.Gauge(self.prometheus_name, description=self.description)


# Turns, measured at the gateway (TurnMetrics of each finished or interrupted reply turn).
TURN_LATENCIES = {
    "voice_to_voice": Latency("soundloop.turn.voice_to_voice", "End of caller speech -> first reply audio sent"),
    "end_of_speech_to_decision": Latency("soundloop.turn.end_of_speech_to_decision",
                                         "End of caller speech -> respond decision"),
    "recognition": Latency("soundloop.turn.recognition", "Recognition of the answered transcript"),
    "llm_first_token": Latency("soundloop.turn.llm_first_token", "Respond decision -> first LLM token"),
    "tts_first_audio": Latency("soundloop.turn.tts_first_audio", "First clause -> its first synthesized audio"),
    "barge_in_stop": Latency("soundloop.turn.barge_in_stop", "Caller's barge-in onset -> last reply audio sent"),
}
STAGE_CALL = Latency("soundloop.stage.call.duration", "Gateway -> stage call, by stage and method "
                                                      "(streams: until the last item)", ("stage", "method"))
STAGE_WORK = Latency("soundloop.stage.work.duration", "A stage's own work on one call, by stage and "
                                                       "operation (ASR decode, generation, synthesis)",
                     ("stage", "operation"))
REDIS_OPERATION = Latency("soundloop.redis.operation.duration", "Session store operation, by operation",
                          ("operation",))

SESSIONS_ACTIVE = Level("soundloop.sessions.active", "Open Converse streams")
SESSIONS = Count("soundloop.sessions", "Sessions by outcome: started, resumed, rejected (with reason)",
                 ("outcome", "reason"))
DECISIONS = Count("soundloop.decisions", "Decider decisions acted on, by action", ("action",))
ERRORS = Count("soundloop.errors", "Errors of stage calls, by stage and gRPC status code", ("stage", "code"))
_INSTRUMENTS: list[_Instrument] = [*TURN_LATENCIES.values(), STAGE_CALL, STAGE_WORK, REDIS_OPERATION,
                                   SESSIONS_ACTIVE, SESSIONS, DECISIONS, ERRORS]

AUDIO_BACKLOG = "soundloop.sessions.audio_backlog"
GAUGES[AUDIO_BACKLOG] = "s"
_BACKLOG_DESCRIPTION = "Caller audio queued ahead of the stages: the largest and the total"
_backlog_reads: list[Callable[[], Iterable[float]]] = []


def _backlog(read: Callable[[], Iterable[float]]) -> dict[str, float]:
    backlogs = list(read())
    return {"max": max(backlogs, default=0.0), "sum": sum(backlogs)}


def observe_audio_backlog(read: Callable[[], Iterable[float]]) -> None:
    """Registers the gauge of how far processing is behind the callers: `read()` gives each open
    session's queued caller audio in seconds; the gauge reports the largest and the total
    (`stat` label), not one series per session."""
    _backlog_reads.append(read)
    if _configured == "ray":
        _start_gauge_pushes()

    def observe(_options) -> Iterable[metrics.Observation]:
        for stat, value in _backlog(read).items():
            yield metrics.Observation(value, {"stat": stat})
    _meter.create_observable_gauge(AUDIO_BACKLOG, callbacks=[observe], unit="s", description=_BACKLOG_DESCRIPTION)


_configured = ""  # "prometheus" | "ray" once configured


def configure_metrics(service_name: str, port: int) -> int:
    """Serves /metrics for Prometheus on `port` (Settings.metrics_port, SOUNDLOOP_METRICS_PORT; 0: no
    endpoint). Idempotent. Returns the port (0: metrics off)."""
    global _configured
    if _configured or not port:
        return port if _configured == "prometheus" else 0
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
    except OSError as err:  # the port is taken: serve calls, without metrics
        log.warning("metrics endpoint not started on port %d: %s", port, err)
        return 0
    metrics.set_meter_provider(provider)
    _configured = "prometheus"
    log.info("metrics for Prometheus on port %d (/metrics)", port)
    return port


def configure_ray_metrics() -> None:
    """In a Ray Serve replica: records every instrument through Ray's metrics API (exported by the
    node's metrics agent, with Ray's own). Idempotent; the standalone endpoint wins if both are asked."""
    global _configured
    if _configured:
        return
    from ray.util import metrics as ray_metrics

    for instrument in _INSTRUMENTS:
        instrument._to_ray(ray_metrics)
    _configured = "ray"
    if _backlog_reads:
        _start_gauge_pushes()
    log.info("metrics through Ray's metrics agent (node metrics port, prefixed ray_)")


_gauge_pushes: threading.Thread | None = None


def _start_gauge_pushes() -> None:
    """Ray's gauges are set, not observed: a daemon thread reads the registered callbacks every few seconds."""
    global _gauge_pushes
    if _gauge_pushes is None:
        from ray.util import metrics as ray_metrics

        gauge = ray_metrics.Gauge(AUDIO_BACKLOG.replace(".", "_") + "_seconds", description=_BACKLOG_DESCRIPTION,
                                  tag_keys=("stat",))
        _gauge_pushes = threading.Thread(target=_push_gauges, args=(gauge,), name="soundloop-ray-gauges", daemon=True)
        _gauge_pushes.start()


def _push_gauges(gauge) -> None:
    while True:
        time.sleep(RAY_GAUGE_INTERVAL_S)
        try:
            totals = {"max": 0.0, "sum": 0.0}
            for read in _backlog_reads:
                values = _backlog(read)
                totals = {"max": max(totals["max"], values["max"]), "sum": totals["sum"] + values["sum"]}
            for stat, value in totals.items():
                gauge.set(value, tags={"stat": stat})
        except RuntimeError:  # a session opened or closed while read from this thread: next time
            continue
