"""What every standalone stage server does, once: parse --host/--port/--profile, set
the process environment before model libraries load, build the stage (models load
once), serve it with health and reflection, and stop gracefully on SIGTERM.

Each `services/<stage>/server.py` only says which stage, port and environment.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import inspect
import logging
import signal
from collections.abc import Callable

from soundloop import process_env

GRACE_S = 5.0


@dataclasses.dataclass(frozen=True)
class StageServer:
    name: str  # "encoder": used in logs ("encoder ready on port 50061")
    default_port: int
    description: str
    env: dict[str, str]  # soundloop.process_env.MODEL_STAGE or LLM_STAGE
    # settings -> (stage, (add_servicer, servicer, service name), a few words for the ready line).
    # Imports its model libraries itself, so they load after `env` is set.
    build: Callable[[object], tuple[object, tuple, str]]

    def main(self, argv: list[str] | None = None) -> None:
        parser = argparse.ArgumentParser(prog=f"python -m services.{self.name}.server", description=self.description)
        parser.add_argument("--host", default="0.0.0.0")
        parser.add_argument("--port", type=int, default=self.default_port, help="0 picks a free port")
        parser.add_argument("--profile", choices=["light", "default"], default=None,
                            help="model profile (default: SOUNDLOOP_PROFILE, else 'default')")
        args = parser.parse_args(argv)
        process_env.apply(self.env)
        from soundloop.logs import configure_logging

        configure_logging()
        asyncio.run(self._serve(args.host, args.port, args.profile))

    async def _serve(self, host: str, port: int, profile: str | None) -> None:
        from soundloop.grpc_server import ServingStatus, not_serving_while_loading, start_server
        from soundloop.metrics import configure_metrics
        from soundloop.settings import load_settings
        from soundloop.telemetry import configure_tracing

        configure_tracing(f"soundloop-{self.name}")

        log = logging.getLogger(f"services.{self.name}.server")
        settings = load_settings(**({"profile": profile} if profile else {}))
        configure_metrics(f"soundloop-{self.name}", settings.metrics_port)
        status = ServingStatus()
        async with not_serving_while_loading(f"{host}:{port}", status) as bound:
            log.info("%s loading its models (health NOT_SERVING on port %d)", self.name, bound)
            stage, registration, detail = await asyncio.to_thread(self.build, settings)
            server, _ = await start_server(f"{host}:{bound}", [registration], status=status)
        log.info("%s ready on port %d (profile %s, %s)", self.name, bound, settings.profile, detail)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        await stopping.wait()
        log.info("%s stopping: NOT_SERVING, finishing calls in flight (up to %.0f s)", self.name, GRACE_S)
        await status.set(False)
        await server.stop(GRACE_S)
        closed = stage.close()
        if inspect.isawaitable(closed):
            await closed
        log.info("%s stopped", self.name)
