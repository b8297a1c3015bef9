"""The LLM stage: streams a spoken reply to a conversation, on an embedded or a remote backend."""
from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence

from services.llm.chat import ChatBackend, InvalidRequest, Message, Role
from soundloop import telemetry
from soundloop.llm.v1 import llm_pb2
from soundloop.settings import Settings

log = logging.getLogger(__name__)

ROLES: dict[int, Role] = {
    llm_pb2.ROLE_SYSTEM: "system",
    llm_pb2.ROLE_USER: "user",
    llm_pb2.ROLE_ASSISTANT: "assistant",
}
FINISH_REASONS = {"stop": llm_pb2.FINISH_REASON_STOP, "length": llm_pb2.FINISH_REASON_LENGTH}


def to_messages(messages: Sequence[llm_pb2.ChatMessage]) -> list[Message]:
    out = []
    for i, m in enumerate(messages):
        role = ROLES.get(m.role)
        if role is None:
            name = llm_pb2.Role.Name(m.role) if m.role in llm_pb2.Role.values() else str(m.role)
            raise InvalidRequest(f"messages[{i}].role is {name}: use ROLE_SYSTEM, ROLE_USER or ROLE_ASSISTANT")
        out.append(Message(role, m.content))
    return out


class LlmStage:
    """`Generate` of soundloop.llm.v1.Llm, on any `ChatBackend`."""

    def __init__(self, backend: ChatBackend, *, default_max_tokens: int, default_temperature: float = 0.3,
                 model_name: str = ""):
        self.backend = backend
        self.model_name = model_name  # for spans
        self.default_max_tokens = default_max_tokens
        self.default_temperature = default_temperature

    @classmethod
    def from_settings(cls, settings: Settings) -> LlmStage:
        llm = settings.resolved().llm
        if llm.backend == "openai":
            from services.llm.openai_backend import OpenAIBackend
            backend: ChatBackend = OpenAIBackend.from_settings(llm)
        else:
            from services.llm.llama_backend import LlamaCppBackend
            backend = LlamaCppBackend.from_settings(llm)
            backend.warm_up(settings.gateway.default_instructions)
        return cls(backend, default_max_tokens=llm.max_tokens, default_temperature=llm.temperature,
                   model_name=llm.openai_model if llm.backend == "openai" else llm.model)

    async def generate(self, req: llm_pb2.GenerateRequest) -> AsyncIterator[llm_pb2.GenerateResponse]:
        """Streams the reply as text deltas; the last response carries finish_reason and completion_tokens.

        max_tokens and temperature 0 select the settings' defaults (proto3 cannot tell an unset
        float from 0; a caller wanting near-greedy decoding sends a small temperature such as 0.01).
        Closing the iterator (or cancelling the task consuming it) stops generation.
        """
        messages = to_messages(req.messages)
        started = time.perf_counter()
        spoken = False
        deltas = self.backend.stream(messages, max_tokens=req.max_tokens or self.default_max_tokens,
                                     temperature=req.temperature or self.default_temperature,
                                     session_id=req.session_id)
        span = telemetry.stage_span(telemetry.LLM_GENERATE_STAGE, "llm", **{
            telemetry.GEN_AI_OPERATION: "chat", telemetry.GEN_AI_MODEL: self.model_name})
        with telemetry.ending(span, "llm", "generate"):
            async with contextlib.aclosing(deltas):
                async for delta in deltas:
                    text = delta.text
                    if not spoken:
                        # A reply goes to speech: whitespace before its first word is only a pause.
                        text = text.lstrip()
                        spoken = bool(text)
                        if spoken:
                            span.set_attribute(telemetry.LLM_FIRST_TOKEN_MS,
                                               round((time.perf_counter() - started) * 1000, 1))
                    if delta.finish is not None:
                        finish = delta.finish
                        log.debug("session %r turn %r: %d tokens in %.2f s (%s)", req.session_id, req.turn_id,
                                  finish.completion_tokens, time.perf_counter() - started, finish.reason)
                        span.set_attributes({telemetry.GEN_AI_OUTPUT_TOKENS: finish.completion_tokens,
                                             telemetry.GEN_AI_INPUT_TOKENS: finish.prompt_tokens,
                                             telemetry.LLM_CACHED_TOKENS: finish.cached_tokens})
                        yield llm_pb2.GenerateResponse(delta=text, finish_reason=FINISH_REASONS[finish.reason],
                                                       completion_tokens=finish.completion_tokens)
                    elif text:
                        yield llm_pb2.GenerateResponse(delta=text)

    async def close(self) -> None:
        await self.backend.close()
