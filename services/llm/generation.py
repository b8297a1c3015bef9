"""One generation on the embedded model: what it asked for, how far it got, and what it cost."""
from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

from services.llm.chat import Delta, Finish, Message
from services.llm.token_text import TokenTextDecoder


class StopSignal:
    """Set by the consumer of a stream, read by the worker thread; remembers when it was set."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.set_at: float | None = None

    def set(self) -> None:
        if not self._event.is_set():
            self.set_at = time.perf_counter()
            self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


@dataclasses.dataclass
class GenerationStats:
    """What one generation cost; the last few are kept in `LlamaCppBackend.recent`, newest last.

    A generation's entry is added when it starts and filled in as it runs; `outcome` is final
    once it is no longer "running".
    """
    session_id: str
    prompt_tokens: int = 0
    # Prompt tokens whose KV was already in the context (prefix cache hit).
    cached_tokens: int = 0
    completion_tokens: int = 0
    prefill_s: float = 0.0
    first_token_s: float | None = None
    total_s: float = 0.0
    outcome: str = "running"  # stop | length | cancelled | error
    # From the stop signal to the worker letting go of the model.
    cancel_latency_s: float | None = None
    # Times another generation took the model over in the middle of this one.
    preempted: int = 0

    @property
    def evaluated_prompt_tokens(self) -> int:
        return self.prompt_tokens - self.cached_tokens


class Generation:
    """A request's progress; advanced a prefill chunk or a token at a time by the backend's worker."""

    def __init__(self, messages: list[Message], session_id: str, max_tokens: int, temperature: float,
                 stop: StopSignal, emit: Callable[[Delta | BaseException], None]):
        self.messages = messages
        self.session_id = session_id
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.stop = stop
        self.emit = emit
        self.stats = GenerationStats(session_id)
        self.started = time.perf_counter()
        self.arrival = 0  # order of submission, set by the scheduler
        self.last_ran = 0.0
        self.prompt_tokens: int | None = None  # known once the prompt is fitted and tokenized
        # The prompt, then every sampled token once it is evaluated: what the context must hold.
        self.tokens: list[int] = []
        self.text = TokenTextDecoder()
        self.sampler = None  # llama.cpp's sampler chain, made at the first token

    @property
    def decoding(self) -> bool:
        return self.prompt_tokens is not None and self.stats.prefill_s > 0

    def finish(self, reason: str) -> None:
        self.stats.outcome = reason
        self.stats.total_s = time.perf_counter() - self.started
        tail = self.text.flush()
        if tail:
            self.emit(Delta(tail))
        self.emit(Delta(finish=Finish(reason, self.stats.completion_tokens, self.stats.prompt_tokens,
                                      self.stats.cached_tokens)))

    def cancelled(self) -> None:
        self.stats.outcome = "cancelled"
        now = time.perf_counter()
        self.stats.total_s = now - self.started
        self.stats.cancel_latency_s = now - (self.stop.set_at or now)
