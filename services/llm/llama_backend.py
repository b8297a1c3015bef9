"""The embedded backend: a GGUF model run by llama-cpp-python in this process.

One `Llama` object runs one generation at a time, on a dedicated worker thread (the single
worker is the model's lock). The token loop checks a stop signal before every prefill chunk and
after every sampled token, so closing the stream (barge-in, client cancel) stops the work within
about one token and frees the model for the next request.
"""
from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import dataclasses
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence

import llama_cpp

from services.llm.chat import Delta, Finish, LlmError, Message, Overloaded, validate_conversation, validate_sampling
from services.llm.chat_template import GgufChatTemplate
from services.llm.context_window import fit_conversation
from services.llm.kv_snapshots import SessionSnapshots
from services.llm.token_text import TokenTextDecoder
from soundloop.models import model_path
from soundloop.settings import LlmSettings

log = logging.getLogger(__name__)

# Prompt tokens evaluated between two looks at the stop signal: 64 costs ~10% of prefill speed
# against one 512-token batch, and bounds a cancel during prefill to ~0.15 s (SmolLM2) / ~1 s (Qwen-1.5B)
# on 2 cores. (llama.cpp's abort callback would be finer, but it calls into Python, under the GIL, per graph node.)
PREFILL_CHUNK_TOKENS = 64
# Generations running or waiting for the model before new ones are refused (RESOURCE_EXHAUSTED).
MAX_PENDING = 8
# The session id the warm-up generation runs under (its KV is kept like any session's).
WARM_UP_SESSION = "warm-up"
SAMPLING = dict(top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.0)


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

    @property
    def evaluated_prompt_tokens(self) -> int:
        return self.prompt_tokens - self.cached_tokens


class LlamaCppBackend:
    """`ChatBackend` on a GGUF model, with a prefix cache across turns and sessions."""

    def __init__(self, llm: llama_cpp.Llama, *, context_tokens: int, snapshots: SessionSnapshots | None = None,
                 max_pending: int = MAX_PENDING):
        self._llm = llm
        self._template = GgufChatTemplate(llm)
        self._vocab = llama_cpp.llama_model_get_vocab(llm.model)
        self.context_tokens = min(context_tokens, llm.n_ctx())
        self.snapshots = snapshots or SessionSnapshots()
        self._max_pending = max_pending
        self._pending = 0
        self._worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")
        self.recent: collections.deque[GenerationStats] = collections.deque(maxlen=32)

    @classmethod
    def from_settings(cls, settings: LlmSettings) -> LlamaCppBackend:
        path = model_path(settings.model, "model.gguf")
        llm = llama_cpp.Llama(model_path=str(path), n_ctx=settings.context_tokens, n_threads=settings.threads,
                              verbose=False)
        log.info("loaded %s (context %d tokens, %d threads)", path, settings.context_tokens, settings.threads)
        return cls(llm, context_tokens=settings.context_tokens)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return len(self._template.tokens(messages))

    async def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float,
                     session_id: str) -> AsyncIterator[Delta]:
        validate_conversation(messages)
        validate_sampling(max_tokens, temperature)
        if self._pending >= self._max_pending:
            raise Overloaded(f"{self._pending} generations are already waiting for this model")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Delta | BaseException] = asyncio.Queue()
        stop = StopSignal()

        def emit(item: Delta | BaseException) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop is gone: nobody listens any more
                stop.set()

        self._pending += 1
        loop.run_in_executor(self._worker, self._generate, list(messages), session_id, max_tokens, temperature,
                             stop, emit)
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if item.finish is not None:
                    return
        finally:
            self._pending -= 1
            stop.set()

    def warm_up(self, system_prompt: str) -> None:
        """Runs one short generation after the system prompt, blocking: the weights are paged in and
        the prompt's KV stays cached, so the first caller's reply pays neither (cold it took ~2.5 s)."""
        messages = [Message("system", system_prompt), Message("user", "Hello.")]
        self._worker.submit(self._generate, messages, WARM_UP_SESSION, 2, 0.01, StopSignal(),
                            lambda _: None).result()

    async def clear_cache(self) -> None:
        """Forgets every cached prefix (the live context and the snapshots): the next prompt runs cold."""
        def clear() -> None:
            self._llm.reset()
            self.snapshots.clear()
        await asyncio.get_running_loop().run_in_executor(self._worker, clear)

    async def close(self) -> None:
        await asyncio.to_thread(self._worker.shutdown, wait=True, cancel_futures=True)
        self._llm.close()

    # Everything below runs on the worker thread, which owns the model.

    def _generate(self, messages: list[Message], session_id: str, max_tokens: int, temperature: float,
                  stop: StopSignal, emit: Callable[[Delta | BaseException], None]) -> None:
        stats = GenerationStats(session_id)
        self.recent.append(stats)
        started = time.perf_counter()
        try:
            if not stop.is_set():
                self._prefill_and_decode(messages, max_tokens, temperature, stop, emit, stats, started)
        except LlmError as e:
            stats.outcome = "error"
            emit(e)
        except Exception as e:
            stats.outcome = "error"
            log.exception("generation failed for session %r", session_id)
            # A failed decode can leave the KV cache and the token bookkeeping out of step: start clean.
            self._llm.reset()
            emit(e)
        finally:
            if stats.outcome == "running":
                stats.outcome = "cancelled"
                stats.total_s = time.perf_counter() - started
                stats.cancel_latency_s = time.perf_counter() - (stop.set_at or started)
            log.debug("generation %s", stats)

    def _prefill_and_decode(self, messages: list[Message], max_tokens: int, temperature: float, stop: StopSignal,
                            emit: Callable[[Delta], None], stats: GenerationStats, started: float) -> None:
        messages = fit_conversation(messages, self.count_tokens, self.context_tokens - max_tokens,
                                    session_id=stats.session_id)
        prompt = self._template.tokens(messages)
        stats.prompt_tokens = len(prompt)
        if not self._prefill(prompt, stop, stats):
            return
        stats.prefill_s = time.perf_counter() - started
        reason = self._decode(prompt, max_tokens, temperature, stop, emit, stats, started)
        if reason is not None:
            stats.outcome = reason
            stats.total_s = time.perf_counter() - started
            emit(Delta(finish=Finish(reason, stats.completion_tokens)))

    def _prefill(self, prompt: list[int], stop: StopSignal, stats: GenerationStats) -> bool:
        """Evaluates the prompt tokens the context lacks, in chunks; False if stopped on the way."""
        llm = self._llm
        # The last prompt token is always re-evaluated: sampling needs its fresh logits.
        cached = min(self.snapshots.take_over(llm, stats.session_id, prompt), len(prompt) - 1)
        stats.cached_tokens = cached
        llm.n_tokens = cached  # eval() drops the KV past this point
        for start in range(cached, len(prompt), PREFILL_CHUNK_TOKENS):
            if stop.is_set():
                return False
            llm.eval(prompt[start:start + PREFILL_CHUNK_TOKENS])
        return True

    def _decode(self, prompt: list[int], max_tokens: int, temperature: float, stop: StopSignal,
                emit: Callable[[Delta], None], stats: GenerationStats, started: float) -> str | None:
        """Samples the reply token by token; the finish reason, or None if stopped."""
        text = TokenTextDecoder()
        # The whole prompt is in the context now, so generate() samples without evaluating again.
        tokens = self._llm.generate(prompt, temp=temperature, **SAMPLING)
        try:
            for token in tokens:
                if stop.is_set():
                    return None
                if self._ends_reply(token):
                    reason = "stop"
                    break
                stats.completion_tokens += 1
                if stats.first_token_s is None:
                    stats.first_token_s = time.perf_counter() - started
                piece = text.feed(self._llm.detokenize([token]))
                if piece:
                    emit(Delta(piece))
                if stats.completion_tokens >= max_tokens:
                    reason = "length"
                    break
            else:
                reason = "stop"
        finally:
            tokens.close()
        tail = text.flush()
        if tail:
            emit(Delta(tail))
        return reason

    def _ends_reply(self, token: int) -> bool:
        # Control tokens (<|im_start|>, <|endoftext|>) never belong in a spoken reply, even when
        # the model fails to emit its end-of-turn token first.
        return bool(llama_cpp.llama_vocab_is_eog(self._vocab, token)
                    or llama_cpp.llama_vocab_is_control(self._vocab, token))
