"""The chat domain of the LLM stage: messages, streamed reply pieces, the backend interface, errors.

Backends (embedded llama.cpp, a remote OpenAI-compatible server) implement `ChatBackend`;
the stage only speaks this vocabulary and converts it to and from protos.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import AsyncIterator, Sequence
from typing import Literal, Protocol

from soundloop import errors

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length"]


@dataclasses.dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclasses.dataclass(frozen=True)
class Finish:
    reason: FinishReason
    completion_tokens: int
    prompt_tokens: int = 0  # 0: the backend does not say
    cached_tokens: int = 0  # prompt tokens whose KV was reused (prefix cache)


@dataclasses.dataclass(frozen=True)
class Delta:
    """A piece of the reply. The last piece of a stream carries `finish` (its text may be empty)."""
    text: str = ""
    finish: Finish | None = None


class ChatBackend(Protocol):
    """What the stage needs from a model runtime (like Ray Serve LLM's engine abstraction).

    `stream` yields text pieces as they are generated and ends with a `Delta` whose `finish`
    is set. Closing the iterator early (barge-in, client cancel) must stop generation.
    """

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float,
               session_id: str) -> AsyncIterator[Delta]: ...

    async def close(self) -> None: ...


class LlmError(errors.SoundloopError):
    """Base of the stage's errors, each also a kind of the kernel error that gives its status code."""


class InvalidRequest(LlmError, errors.InvalidRequest):
    """The request can never succeed as sent."""


class BackendUnavailable(LlmError, errors.Unavailable):
    """The model endpoint cannot be reached or is temporarily refusing work."""


class Overloaded(LlmError, errors.Overloaded):
    """Too many generations are already waiting for this replica."""


class BackendError(LlmError, errors.Internal):
    """The model endpoint answered with an error that retrying will not fix."""


MAX_TEMPERATURE = 2.0


def validate_conversation(messages: Sequence[Message]) -> None:
    """A conversation the backends can answer: not empty, and ending with the user's turn."""
    if not messages:
        raise InvalidRequest(
            "messages is empty: send the conversation, system prompt first, ending with a user message")
    if messages[-1].role != "user":
        raise InvalidRequest(
            f"the conversation must end with a user message, but the last of {len(messages)} is {messages[-1].role!r}")


def validate_sampling(max_tokens: int, temperature: float) -> None:
    if max_tokens <= 0:
        raise InvalidRequest(f"max_tokens must be positive, got {max_tokens}")
    if not math.isfinite(temperature) or not 0.0 <= temperature <= MAX_TEMPERATURE:
        raise InvalidRequest(f"temperature must be within [0, {MAX_TEMPERATURE}], got {temperature}")
