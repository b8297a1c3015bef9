"""The OpenAI-compatible backend against a real `python -m llama_cpp.server` on loopback."""
from __future__ import annotations

import asyncio
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from services.llm.chat import BackendError, BackendUnavailable, Message
from services.llm.openai_backend import OpenAIBackend
from services.llm.stage import LlmStage
from soundloop.llm.v1 import llm_pb2
from soundloop.models import model_path

pytestmark = pytest.mark.integration

SYSTEM_PROMPT = "You are a helpful voice assistant. Answer in one short sentence."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """A real llama_cpp.server with SmolLM2; yields (base_url, log path)."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama_server") / "server.log"
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_WAIT_POLICY="PASSIVE")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path("smollm2-135m", "model.gguf")),
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "1024", "--n_threads", "1"],
            stdout=log, stderr=subprocess.STDOUT, env=env)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log_path.read_text()[-2000:]
            try:
                urllib.request.urlopen(f"{base_url}/models", timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "llama_cpp.server did not start"
                time.sleep(0.2)
        yield base_url, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
async def backend(llama_server):
    backend = OpenAIBackend(llama_server[0], model="smollm2")
    yield backend
    await backend.close()


CAPITAL = [Message("system", SYSTEM_PROMPT), Message("user", "What is the capital of France?")]
STORY = [Message("user", "Tell me a very long story about a dragon who learns to cook.")]


async def test_streams_a_reply(backend):
    deltas = [d async for d in backend.stream(CAPITAL, max_tokens=40, temperature=0.0, session_id="s")]
    texts = [d.text for d in deltas if d.text]
    assert "".join(texts).strip()
    assert len(texts) >= 2
    finish = deltas[-1].finish
    assert finish is not None and finish.reason in ("stop", "length")
    assert finish.completion_tokens == len(texts)  # llama_cpp.server sends one token per chunk


async def test_max_tokens_ends_with_length(backend):
    deltas = [d async for d in backend.stream(STORY, max_tokens=6, temperature=0.0, session_id="s")]
    assert deltas[-1].finish.reason == "length"
    assert deltas[-1].finish.completion_tokens == 6


async def test_closing_the_stream_disconnects_and_the_server_stays_usable(backend, llama_server):
    log_path: pathlib.Path = llama_server[1]
    stream = backend.stream(STORY, max_tokens=300, temperature=0.0, session_id="s")
    assert (await anext(stream)).text
    await stream.aclose()
    deadline = time.monotonic() + 5
    while "Disconnected from client" not in log_path.read_text(errors="replace"):
        assert time.monotonic() < deadline, "the server never saw the client leave"
        await asyncio.sleep(0.05)
    started = time.monotonic()
    deltas = [d async for d in backend.stream(CAPITAL, max_tokens=8, temperature=0.0, session_id="s")]
    assert deltas[-1].finish is not None
    assert time.monotonic() - started < 5


async def test_unreachable_endpoint_is_unavailable():
    backend = OpenAIBackend(f"http://127.0.0.1:{free_port()}/v1", model="m", connect_timeout_s=1)
    try:
        with pytest.raises(BackendUnavailable, match="unreachable"):
            async for _ in backend.stream(CAPITAL, max_tokens=8, temperature=0.0, session_id="s"):
                pass
    finally:
        await backend.close()


async def test_http_error_is_reported(llama_server):
    backend = OpenAIBackend(llama_server[0] + "/no-such-api", model="m")
    try:
        with pytest.raises(BackendError, match="HTTP 404"):
            async for _ in backend.stream(CAPITAL, max_tokens=8, temperature=0.0, session_id="s"):
                pass
    finally:
        await backend.close()


async def test_stage_on_openai_backend(light_settings, llama_server, request_factory):
    settings = light_settings.model_copy(deep=True)
    settings.llm.backend = "openai"
    settings.llm.openai_base_url = llama_server[0]
    stage = LlmStage.from_settings(settings)
    try:
        assert isinstance(stage.backend, OpenAIBackend)
        responses = [r async for r in stage.generate(
            request_factory(("user", "What is the capital of France?"), max_tokens=12))]
        assert "".join(r.delta for r in responses).strip()
        assert responses[-1].finish_reason in (llm_pb2.FINISH_REASON_STOP, llm_pb2.FINISH_REASON_LENGTH)
    finally:
        await stage.close()
