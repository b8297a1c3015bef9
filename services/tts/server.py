"""Runs the TTS stage as a standalone gRPC server.

    python -m services.tts.server [--port 50064] [--profile light|default]
"""
from __future__ import annotations

from soundloop import process_env
from soundloop.stage_server import StageServer


def build(settings):
    from services.tts.servicer import register
    from services.tts.stage import TtsStage

    stage = TtsStage.from_settings(settings)
    engine, voice = stage.catalog.default
    return stage, register(stage), f"default voice {engine.name}:{voice}, {len(stage.voices)} voices"


SERVER = StageServer("tts", 50064, "soundloop TTS stage (piper, espeak-ng, flite) over gRPC",
                     process_env.MODEL_STAGE, build)
main = SERVER.main

if __name__ == "__main__":
    main()
