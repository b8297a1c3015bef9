"""Runs the soundloop Ray Serve application on a local Ray cluster (for `soundloop serve`/`demo`).

It deploys the profile's Serve config file (deploy/serve/soundloop.yaml or
soundloop-light.yaml) the way `serve run <config.yaml>` and KubeRay do: the file
goes to Serve's controller, which imports the builder named in import_path,
calls it with the file's args and applies its runtime_env and `deployments:`
options. So replicas, CPUs and request limits are the file's, and the local run
is the deployed run; only what a local run must change is overridden here.
"""
from __future__ import annotations

import contextlib
import copy
import os
import pathlib
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import yaml

from soundloop.local_stack import wait_serving
from soundloop.models import REPO_ROOT, models_dir

SERVE_CONFIG_DIR = REPO_ROOT / "deploy" / "serve"
APP_NAME = "soundloop"
# Set on the Ray node, for Serve's controller, which the app's runtime_env does not reach.
# Its control loop runs every 0.1 s by default: 2.4 CPU-s per 34 s of a call on 2 cores.
# Autoscaling waits 10 s to act anyway. deploy/kuberay/rayservice.yaml sets the same on its head.
CONTROLLER_ENV = {"RAY_SERVE_CONTROL_LOOP_INTERVAL_S": "0.5"}
# The Ray resource that places Gateway replicas (on KubeRay, the `gateway` worker group's pods).
GATEWAY_RESOURCE = "soundloop_gateway"


def serve_config_path(profile: str) -> pathlib.Path:
    return SERVE_CONFIG_DIR / ("soundloop-light.yaml" if profile == "light" else "soundloop.yaml")


def load_serve_config(profile: str) -> dict[str, Any]:
    path = serve_config_path(profile)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: `soundloop serve` runs the Serve config of a source checkout or image")
    return yaml.safe_load(path.read_text())


def local_serve_config(config: dict[str, Any], redis_url: str, port: int,
                       env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`config` with the overrides a run on this machine needs (and `env` for every replica), nothing else."""
    config = copy.deepcopy(config)
    # Serve's HTTP proxy serves no route of ours: keep it on loopback, on any free port.
    config["http_options"] = {**config.get("http_options", {}), "host": "127.0.0.1", "port": 0}
    (app,) = [a for a in config["applications"] if a["name"] == APP_NAME]
    app["args"] = {**app.get("args", {}), "redis_url": redis_url}
    env_vars = app.setdefault("runtime_env", {}).setdefault("env_vars", {})
    env_vars.update({"SOUNDLOOP_GATEWAY__PORT": str(port), "SOUNDLOOP_MODELS_DIR": str(models_dir()), **(env or {})})
    return config


def gateway_slots(config: dict[str, Any]) -> float:
    """How much GATEWAY_RESOURCE the local node offers: enough for every Gateway replica the config asks for."""
    (app,) = [a for a in config["applications"] if a["name"] == APP_NAME]
    (gateway,) = [d for d in app.get("deployments", []) if d["name"] == "Gateway"]
    replicas = gateway.get("num_replicas") or gateway.get("autoscaling_config", {}).get("max_replicas", 1)
    return replicas * gateway.get("ray_actor_options", {}).get("resources", {}).get(GATEWAY_RESOURCE, 0)


def node_env(config: dict[str, Any]) -> dict[str, str]:
    """Serve's knobs for the node's own processes: the app's RAY_SERVE_* plus CONTROLLER_ENV."""
    (app,) = [a for a in config["applications"] if a["name"] == APP_NAME]
    app_env = app.get("runtime_env", {}).get("env_vars", {})
    return {**{k: v for k, v in app_env.items() if k.startswith("RAY_SERVE_")}, **CONTROLLER_ENV}


@contextlib.contextmanager
def serve_app(profile: str, redis_url: str, port: int, progress: Callable[[str], None] = print,
              start_timeout_s: float = 300, env: Mapping[str, str] | None = None,
              metrics_port: int = 0) -> Iterator[str]:
    """Yields the gateway's address once the app runs. `env`: extra variables for every replica (e.g.
    OTEL_*); `metrics_port`: where the Ray node's metrics agent serves Prometheus /metrics, Ray's and
    every replica's soundloop_* metrics (prefixed ray_) together (0: a port Ray picks)."""
    # The public API's security settings of this command reach the Gateway replicas, on a Ray node
    # started here or one already running.
    forwarded = {k: v for k, v in os.environ.items() if k.startswith("SOUNDLOOP_SECURITY__")
                 or k == "SOUNDLOOP_GATEWAY__HOST"}
    raw = local_serve_config(load_serve_config(profile), redis_url, port, {**forwarded, **(env or {})})
    # The node's processes (controller, proxy) read Serve's knobs from their environment when
    # Serve is first imported; give them the app's RAY_SERVE_* settings so that all run one Serve.
    for key, value in node_env(raw).items():
        os.environ.setdefault(key, value)
    import ray
    from ray import serve
    from ray.serve._private import api as serve_api
    from ray.serve.schema import ServeDeploySchema

    config = ServeDeploySchema.model_validate(raw)
    progress("starting Ray (local cluster)...")
    # Logical CPUs: replicas ask for fractions (the config's num_cpus); the OS shares the real cores.
    on_sigterm = signal.getsignal(signal.SIGTERM)
    ray.init(num_cpus=max(4, os.cpu_count() or 2), include_dashboard=False, log_to_driver=False,
             resources={GATEWAY_RESOURCE: gateway_slots(raw)},
             **({"_metrics_export_port": metrics_port} if metrics_port else {}))
    if callable(on_sigterm) and threading.current_thread() is threading.main_thread():
        # Ray's core worker replaces the handler with one that dumps a stack and aborts, which skips
        # every cleanup below (Ray's agents, the replicas and a redis-server we started were left
        # running): give SIGTERM back to whoever handled it before (`soundloop serve`: a clean exit).
        signal.signal(signal.SIGTERM, on_sigterm)
    try:
        # What `serve run <config.yaml>` does (ray 2.60, ray/serve/scripts.py): start Serve with the
        # file's proxy options, then hand the file to the controller, which builds the app from
        # import_path and args in a task and applies its runtime_env and `deployments:` options.
        # serve_start and deploy_apps are Serve internals; the public serve.run takes no config.
        client = serve_api.serve_start(proxy_location=config.proxy_location,
                                       http_options=config.http_options.model_dump())
        progress(f"deploying {serve_config_path(profile).name} ({profile} profile: loading models)...")
        client.deploy_apps(config)
        deadline = time.monotonic() + start_timeout_s
        wait_running(deadline)
        address = f"127.0.0.1:{port}"
        wait_serving(address, max(1.0, deadline - time.monotonic()), name="gateway")
        yield address
    finally:
        with contextlib.suppress(Exception):
            serve.shutdown()
        ray.shutdown()


def wait_running(deadline: float) -> None:
    """Blocks until the app is RUNNING; raises with Serve's message when its deployment fails."""
    from ray import serve
    from ray.serve.schema import ApplicationStatus

    while time.monotonic() < deadline:
        app = serve.status().applications.get(APP_NAME)
        if app is not None and app.status == ApplicationStatus.RUNNING:
            return
        if app is not None and app.status in (ApplicationStatus.DEPLOY_FAILED, ApplicationStatus.UNHEALTHY):
            failed = {n: d.message for n, d in app.deployments.items() if d.message}
            raise RuntimeError(f"Serve application {APP_NAME} {app.status.value}: {app.message or failed}")
        time.sleep(0.5)
    raise TimeoutError(f"Serve application {APP_NAME} not running after the start timeout")
