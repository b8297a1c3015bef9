"""Runs the encoder stage as a standalone gRPC server.

    python -m services.encoder.server [--port 50061] [--profile light|default]
"""
from __future__ import annotations

import logging

from soundloop import process_env
from soundloop.stage_server import StageServer


def build(settings):
    from services.encoder.servicer import register
    from services.encoder.stage import EncoderStage

    logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # it logs every decode
    stage = EncoderStage.from_settings(settings)
    return stage, register(stage), f"ASR {settings.encoder.asr_model}"


SERVER = StageServer("encoder", 50061, "soundloop encoder stage (VAD, ASR, sound events) over gRPC",
                     process_env.MODEL_STAGE, build)
main = SERVER.main

if __name__ == "__main__":
    main()
