"""Runs the TTS stage as a standalone gRPC server.

    python -m services.tts.server [--port 50064] [--profile light|default]
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal

# Before any model library is imported (they are imported in `serve`): onnxruntime
# threads must not spin on a small machine, and nothing may be downloaded at run time.
from soundloop import process_env

process_env.apply(process_env.MODEL_STAGE)

log = logging.getLogger("services.tts.server")

DEFAULT_PORT = 50064
GRACE_S = 5.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="soundloop TTS stage (piper, espeak-ng, flite) over gRPC")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--profile", choices=("light", "default"), default=None,
                        help="model profile; default: SOUNDLOOP_PROFILE or 'default'")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    from services.tts.servicer import register
    from services.tts.stage import TtsStage
    from soundloop.grpc_server import start_server
    from soundloop.settings import load_settings

    settings = load_settings(**({"profile": args.profile} if args.profile else {}))
    stage = TtsStage.from_settings(settings)
    server, port = await start_server(f"{args.host}:{args.port}", [register(stage)])
    engine, voice = stage.catalog.default
    log.info("tts ready on port %d (profile %s, default voice %s:%s, %d voices)",
             port, settings.profile, engine.name, voice, len(stage.voices))
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    log.info("tts stopping: finishing calls in flight (up to %.0f s)", GRACE_S)
    await server.stop(GRACE_S)
    stage.close()


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
