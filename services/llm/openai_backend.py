"""The remote backend: any OpenAI-compatible chat endpoint (vLLM, Ray Serve LLM, llama_cpp.server).

Streams `POST {base_url}/chat/completions` with `stream: true` and reads the server-sent events.
Closing the stream closes the HTTP response, which is how these servers learn to stop generating.
"""
from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence

import aiohttp

from services.llm.chat import (
    BackendError,
    BackendUnavailable,
    Delta,
    Finish,
    InvalidRequest,
    Message,
    validate_conversation,
    validate_sampling,
)
from services.llm.context_window import fit_conversation
from soundloop.settings import LlmSettings

log = logging.getLogger(__name__)

DONE = object()
# Statuses after which another try (or another replica) may well succeed.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def estimate_tokens(messages: Sequence[Message]) -> int:
    """A generous count without the remote tokenizer: English runs ~4 characters a token; 3 leaves margin."""
    return sum(len(m.content) // 3 + 8 for m in messages)


def parse_sse_line(line: bytes) -> dict | object | None:
    """The JSON payload of one server-sent-event line, `DONE` at the end marker, None for anything else."""
    text = line.decode("utf-8", errors="replace").strip()
    if not text.startswith("data:"):
        return None  # blank separators, ": keep-alive" comments, "event:" fields
    data = text[len("data:"):].strip()
    if data == "[DONE]":
        return DONE
    try:
        payload = json.loads(data)
    except json.JSONDecodeError as e:
        raise BackendError(f"the LLM endpoint sent an event that is not JSON: {data[:200]!r}") from e
    if isinstance(payload, dict) and "error" in payload:
        raise BackendError(f"the LLM endpoint reported an error mid-stream: {payload['error']}")
    return payload


class OpenAIBackend:
    """`ChatBackend` on an OpenAI-compatible HTTP endpoint."""

    def __init__(self, base_url: str, model: str, api_key: str = "none", *, context_tokens: int = 4096,
                 connect_timeout_s: float = 5.0, read_timeout_s: float = 60.0):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.context_tokens = context_tokens
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout_s, sock_read=read_timeout_s)
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(cls, settings: LlmSettings) -> OpenAIBackend:
        return cls(settings.openai_base_url, settings.openai_model, settings.openai_api_key,
                   context_tokens=settings.context_tokens)

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use: a session belongs to the event loop it was made in.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout, headers=self._headers)
        return self._session

    async def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float,
                     session_id: str) -> AsyncIterator[Delta]:
        validate_conversation(messages)
        validate_sampling(max_tokens, temperature)
        messages = fit_conversation(messages, estimate_tokens, self.context_tokens - max_tokens, session_id=session_id)
        body = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
            "max_tokens": max_tokens,
            "temperature": temperature,
            # vLLM (and so Ray Serve LLM) then reports exact token counts; others ignore it.
            "stream_options": {"include_usage": True},
        }
        response = await self._post(body)
        finished = False
        try:
            await self._check_status(response)
            async for delta in self._deltas(response):
                finished = delta.finish is not None
                yield delta
        finally:
            if finished:
                response.release()
            else:
                # Dropping the connection is the only stop signal an OpenAI-style server gets.
                response.close()

    async def _post(self, body: dict) -> aiohttp.ClientResponse:
        try:
            return await self._client().post(self.url, json=body)
        except (TimeoutError, aiohttp.ClientConnectionError) as e:
            raise BackendUnavailable(f"LLM endpoint {self.url} unreachable: {e or type(e).__name__}") from e

    async def _check_status(self, response: aiohttp.ClientResponse) -> None:
        if response.status == 200:
            return
        detail = (await response.text())[:300]
        message = f"LLM endpoint {self.url} answered HTTP {response.status}: {detail}"
        if response.status in RETRYABLE_STATUSES:
            raise BackendUnavailable(message)
        if response.status in (400, 422):
            raise InvalidRequest(message)
        raise BackendError(message)

    async def _deltas(self, response: aiohttp.ClientResponse) -> AsyncIterator[Delta]:
        chunks = 0
        usage_tokens: int | None = None
        reason = None
        try:
            async for line in response.content:
                event = parse_sse_line(line)
                if event is DONE:
                    break
                if not isinstance(event, dict):
                    continue
                usage_tokens = (event.get("usage") or {}).get("completion_tokens", usage_tokens)
                choices = event.get("choices") or [{}]
                text = (choices[0].get("delta") or {}).get("content") or ""
                if text:
                    chunks += 1
                    yield Delta(text)
                reason = choices[0].get("finish_reason") or reason
        except (TimeoutError, aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as e:
            raise BackendUnavailable(f"LLM endpoint {self.url} broke off the stream: {e or type(e).__name__}") from e
        # Servers that do not report usage send one token per chunk (vLLM, llama.cpp).
        tokens = usage_tokens if usage_tokens is not None else chunks
        yield Delta(finish=Finish("length" if reason == "length" else "stop", tokens))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
