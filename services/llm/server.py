"""Runs the LLM stage as a standalone gRPC server.

    python -m services.llm.server [--port 50062] [--profile light|default]
"""
from __future__ import annotations

from soundloop import process_env
from soundloop.stage_server import StageServer


def build(settings):
    from services.llm.servicer import SERVICE_NAME, LlmServicer
    from services.llm.stage import LlmStage
    from soundloop.llm.v1 import llm_pb2_grpc

    stage = LlmStage.from_settings(settings)
    llm = settings.llm
    model = llm.model if llm.backend == "llama_cpp" else f"{llm.openai_model} at {llm.openai_base_url}"
    return stage, (llm_pb2_grpc.add_LlmServicer_to_server, LlmServicer(stage), SERVICE_NAME), \
        f"backend {llm.backend}, model {model}"


# llama.cpp gets a short OpenMP spin instead of passive waiting (soundloop/process_env.py).
SERVER = StageServer("llm", 50062, "soundloop LLM stage (llama.cpp or an OpenAI-compatible server) over gRPC",
                     process_env.LLM_STAGE, build)
main = SERVER.main

if __name__ == "__main__":
    main()
