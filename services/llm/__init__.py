"""The LLM stage: streams a spoken reply to a conversation (soundloop.llm.v1.Llm).

stage.py (LlmStage) works on a `ChatBackend` (chat.py): llama_backend.py runs a GGUF in-process
with a prefix cache across turns and sessions (kv_snapshots.py); openai_backend.py streams from
any OpenAI-compatible endpoint. servicer.py, server.py and deployment.py are the gRPC, standalone
and Ray Serve edges.
"""
