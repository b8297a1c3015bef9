"""Runs the LLM stage as a standalone gRPC server.

    python -m services.llm.server [--port 50062] [--profile light|default]
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal

DEFAULT_PORT = 50062


async def serve(host: str, port: int, profile: str | None) -> None:
    # Imported here so the environment below is set before llama.cpp loads its OpenMP runtime.
    from services.llm.servicer import SERVICE_NAME, LlmServicer
    from services.llm.stage import LlmStage
    from soundloop.grpc_server import start_server
    from soundloop.llm.v1 import llm_pb2_grpc
    from soundloop.settings import load_settings

    log = logging.getLogger("services.llm.server")
    settings = load_settings(profile=profile) if profile else load_settings()
    stage = await asyncio.to_thread(LlmStage.from_settings, settings)
    server, bound = await start_server(
        f"{host}:{port}", [(llm_pb2_grpc.add_LlmServicer_to_server, LlmServicer(stage), SERVICE_NAME)])
    llm = settings.llm
    log.info("llm stage ready on %s:%d (profile %s, backend %s, model %s)", host, bound, settings.profile,
             llm.backend, llm.model if llm.backend == "llama_cpp" else f"{llm.openai_model} at {llm.openai_base_url}")

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    log.info("stopping: letting running generations finish for up to 5 s")
    await server.stop(grace=5)
    await stage.close()
    log.info("stopped")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--profile", choices=["light", "default"], default=None,
                        help="model profile (default: SOUNDLOOP_PROFILE, else 'default')")
    args = parser.parse_args(argv)
    # Before llama.cpp loads: a short OpenMP spin (see soundloop/process_env.py).
    from soundloop import process_env

    process_env.apply(process_env.LLM_STAGE)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(args.host, args.port, args.profile))


if __name__ == "__main__":
    main()
