"""The observe profile's configs (deploy/observe/) agree with the code: Prometheus scrapes every
soundloop process on the port compose gives it, and the Grafana dashboard only queries metrics
that soundloop/metrics.py defines (a renamed instrument would leave a panel silently empty)."""
from __future__ import annotations

import json
import re

import manifest_checks as mc
import pytest
import yaml

from soundloop import metrics

pytestmark = pytest.mark.unit

OBSERVE = mc.REPO / "deploy" / "observe"
PROCESSES = {"gateway", "encoder", "llm", "decider", "tts"}


def _prometheus_names() -> set[str]:
    """What the OpenTelemetry Prometheus exporter calls each soundloop instrument."""
    names = set()
    for name in metrics.HISTOGRAMS:
        base = name.replace(".", "_") + "_seconds"
        names |= {f"{base}_bucket", f"{base}_count", f"{base}_sum"}
    names |= {name.replace(".", "_") + "_total" for name in metrics.COUNTERS}
    names |= {name.replace(".", "_") + ("_seconds" if unit == "s" else "") for name, unit in metrics.GAUGES.items()}
    return names


def test_prometheus_scrapes_every_process_on_its_metrics_port():
    compose = mc.load_yaml(mc.REPO / "docker-compose.yml")
    port = compose["x-soundloop-env"]["SOUNDLOOP_METRICS_PORT"]
    config = yaml.safe_load((OBSERVE / "prometheus.yml").read_text())
    targets = {t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    assert targets == {f"{name}:{port}" for name in PROCESSES}
    assert PROCESSES <= set(compose["services"])


def test_the_dashboard_queries_only_metrics_the_code_exports():
    dashboard = json.loads((OBSERVE / "grafana" / "dashboards" / "soundloop.json").read_text())
    queried = {m for panel in dashboard["panels"] for target in panel["targets"]
               for m in re.findall(r"soundloop_[a-z_]+", target["expr"])}
    assert queried and queried <= _prometheus_names(), queried - _prometheus_names()
    assert "soundloop_turn_voice_to_voice_seconds_bucket" in queried


def test_the_collector_passes_traces_to_jaeger():
    config = yaml.safe_load((OBSERVE / "otel-collector.yaml").read_text())
    pipeline = config["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"] and config["exporters"][pipeline["exporters"][0]]["endpoint"] == \
        "jaeger:4317"


def test_the_podmonitor_scrapes_ray_s_metrics_port_on_every_pod_and_drops_the_ray_prefix():
    monitor = yaml.safe_load((OBSERVE / "kuberay-podmonitor.yaml").read_text())
    (rayservice,) = mc.load_yaml_all(mc.REPO / "deploy" / "kuberay" / "rayservice.yaml")
    cluster = rayservice["spec"]["rayClusterConfig"]
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    for group in groups:
        container = group["template"]["spec"]["containers"][0]
        # Ray's metrics agent serves every replica's soundloop metrics: every pod runs replicas or the Gateway.
        assert {p["name"]: p["containerPort"] for p in container["ports"]}[endpoint["port"]] == 8080
        assert monitor["spec"]["selector"]["matchLabels"].items() <= group["template"]["metadata"]["labels"].items()
        # Each replica names its own service (soundloop-gateway, -encoder, ...) in traces.
        assert "OTEL_SERVICE_NAME" not in {e["name"] for e in container["env"]}
    (relabel,) = endpoint["metricRelabelings"]
    pattern = re.compile(relabel["regex"])
    ray_name = "ray_soundloop_turn_voice_to_voice_seconds_bucket"
    assert pattern.fullmatch(ray_name).expand(relabel["replacement"].replace("$1", r"\1")) in _prometheus_names()
    assert not pattern.fullmatch("ray_serve_num_ongoing_requests")  # Ray's own keep their names
