"""Runs the decider stage as a standalone gRPC server.

    python -m services.decider.server [--port 50063] [--profile light|default] [--host 0.0.0.0]
"""
from __future__ import annotations

from soundloop import process_env
from soundloop.stage_server import StageServer


def build(settings):
    from services.decider.servicer import register
    from services.decider.stage import DeciderStage

    stage = DeciderStage.from_settings(settings)
    return stage, register(stage), f"end-of-turn model {settings.decider.eot_model}"


SERVER = StageServer("decider", 50063, "soundloop decider stage (turn and action policy) over gRPC",
                     process_env.MODEL_STAGE, build)
main = SERVER.main

if __name__ == "__main__":
    main()
