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


def test_the_podmonitor_scrapes_ports_the_rayservice_declares():
    monitor = yaml.safe_load((OBSERVE / "kuberay-podmonitor.yaml").read_text())
    (rayservice,) = mc.load_yaml_all(mc.REPO / "deploy" / "kuberay" / "rayservice.yaml")
    head = rayservice["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    declared = {port["name"]: port["containerPort"] for port in head["ports"]}
    assert {e["port"] for e in monitor["spec"]["podMetricsEndpoints"]} <= set(declared)
    env = {e["name"]: e.get("value") for e in head["env"]}
    assert declared["soundloop-metrics"] == int(env["SOUNDLOOP_METRICS_PORT"])
    labels = rayservice["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["metadata"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= labels.items()
