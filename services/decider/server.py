"""Runs the decider stage as a standalone gRPC server.

    python -m services.decider.server [--port 50063] [--profile light|default] [--host 0.0.0.0]
"""
from __future__ import annotations

# Before llama.cpp is imported: OpenMP spin-waits would fight the other stages for the cores.
from soundloop import process_env

process_env.apply(process_env.MODEL_STAGE)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402

from services.decider.servicer import register  # noqa: E402
from services.decider.stage import DeciderStage  # noqa: E402
from soundloop.grpc_server import start_server  # noqa: E402
from soundloop.settings import load_settings  # noqa: E402

log = logging.getLogger("services.decider.server")

DEFAULT_PORT = 50063
STOP_GRACE_S = 5.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m services.decider.server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--profile", choices=["light", "default"], default=None,
                        help="model profile (default: SOUNDLOOP_PROFILE or 'default')")
    return parser.parse_args(argv)


async def serve(host: str, port: int, profile: str | None) -> None:
    settings = load_settings(profile=profile) if profile else load_settings()
    stage = await asyncio.to_thread(DeciderStage.from_settings, settings)
    server, bound = await start_server(f"{host}:{port}", [register(stage)])
    log.info("decider ready on %s:%d (profile %s)", host, bound, settings.profile)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    log.info("decider stopping: finishing calls in flight (up to %.0f s)", STOP_GRACE_S)
    await server.stop(STOP_GRACE_S)
    stage.close()
    log.info("decider stopped")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(args.host, args.port, args.profile))


if __name__ == "__main__":
    main()
