"""Runs the soundloop Ray Serve application on a local Ray cluster (for `soundloop serve`/`demo`)."""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

from soundloop import process_env
from soundloop.local_stack import wait_serving
from soundloop.models import models_dir


@contextlib.contextmanager
def serve_app(profile: str, redis_url: str, port: int, progress: Callable[[str], None] = print,
              start_timeout_s: float = 300) -> Iterator[str]:
    import ray
    from ray import serve

    from soundloop.app import build_app

    # Cluster-wide: offline and the models folder. OpenMP waiting is per deployment (process_env).
    env = {**process_env.OFFLINE, "SOUNDLOOP_MODELS_DIR": str(models_dir())}
    progress("starting Ray (local cluster)...")
    # Logical CPUs: stage replicas ask for fractions; the OS shares the real cores.
    ray.init(num_cpus=max(4, os.cpu_count() or 2), include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": env})
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": 0})
        progress(f"deploying the soundloop application ({profile} profile: loading models)...")
        app = build_app({"profile": profile, "redis_url": redis_url, "settings": {"gateway": {"port": port}}})
        serve.run(app, name="soundloop", route_prefix=None, blocking=False)
        address = f"127.0.0.1:{port}"
        wait_serving(address, start_timeout_s, name="gateway")
        yield address
    finally:
        with contextlib.suppress(Exception):
            serve.shutdown()
        ray.shutdown()
