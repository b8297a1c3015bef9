"""The embedded backend: a GGUF model run by llama-cpp-python in this process.

One `Llama` object holds one token sequence, so one worker thread owns it and
advances the generations in flight one step at a time: a prefill chunk or one
token. A spoken reply is needed fast only until its first phrase is out; after
that it is read aloud at ~3 tokens a second, while the model makes 25-100. So a
new request's prefill and first tokens go before the continuations of replies
already speaking, and those share the model in turns of a few tokens. A second
caller's answer then waits for about one token of the first one's, not its whole
reply. Switching to another session's generation parks the live KV cache in
`SessionSnapshots` and restores the other's (a copy of a few MB).

The worker checks each generation's stop signal before every step, so closing
the stream (barge-in, client cancel) stops the work within about one token and
frees the model for the rest.
"""
from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence

import llama_cpp

from services.llm.chat import Delta, LlmError, Message, Overloaded, validate_conversation, validate_sampling
from services.llm.chat_template import GgufChatTemplate
from services.llm.context_window import fit_conversation
from services.llm.generation import Generation, GenerationStats, StopSignal
from services.llm.kv_snapshots import SessionSnapshots
from soundloop.models import model_path
from soundloop.settings import LlmSettings
from soundloop.thread_priority import lower_this_thread

log = logging.getLogger(__name__)

__all__ = ["LlamaCppBackend", "GenerationStats", "StopSignal"]

# Prompt tokens evaluated between two looks at the stop signals: 64 costs ~10% of prefill speed
# against one 512-token batch, and bounds a cancel during prefill to ~0.15 s (SmolLM2) / ~1 s (Qwen-1.5B)
# on 2 cores. (llama.cpp's abort callback would be finer, but it calls into Python, under the GIL, per graph node.)
PREFILL_CHUNK_TOKENS = 64
# A reply's first tokens (its first phrase and then some) go before other replies' continuations.
FIRST_TOKENS = 16
# Replies past their first tokens take turns of this many tokens: a switch costs a KV copy.
TURN_TOKENS = 8
# Generations running or waiting for the model before new ones are refused (RESOURCE_EXHAUSTED).
MAX_PENDING = 8
SAMPLING = dict(top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.0)
# The session id the warm-up generation runs under (its KV is kept like any session's).
WARM_UP_SESSION = "warm-up"


class LlamaCppBackend:
    """`ChatBackend` on a GGUF model, with a prefix cache across turns and sessions."""

    def __init__(self, llm: llama_cpp.Llama, *, context_tokens: int, snapshots: SessionSnapshots | None = None,
                 max_pending: int = MAX_PENDING, nice: int = 0):
        self._llm = llm
        self._nice = nice
        self._template = GgufChatTemplate(llm)
        self._vocab = llama_cpp.llama_model_get_vocab(llm.model)
        self.context_tokens = min(context_tokens, llm.n_ctx())
        self.snapshots = snapshots or SessionSnapshots()
        self._max_pending = max_pending
        self._pending = 0
        self.recent: collections.deque[GenerationStats] = collections.deque(maxlen=32)
        # Shared with the event loop: guarded by _wake's lock.
        self._wake = threading.Condition()
        self._waiting: list[Generation] = []  # submitted, not yet seen by the worker
        self._chores: collections.deque[tuple[Callable[[], None], concurrent.futures.Future]] = collections.deque()
        self._closing = False
        # The worker's own.
        self._active: list[Generation] = []
        self._live: Generation | None = None  # whose tokens (and last logits) the context holds
        self._turn_left = 0  # tokens left in the live generation's turn
        self._arrivals = 0
        self._worker = threading.Thread(target=self._work, name="llama", daemon=True)
        self._worker.start()

    @classmethod
    def from_settings(cls, settings: LlmSettings) -> LlamaCppBackend:
        path = model_path(settings.model, "model.gguf")
        llm = llama_cpp.Llama(model_path=str(path), n_ctx=settings.context_tokens, n_threads=settings.threads,
                              verbose=False)
        log.info("loaded %s (context %d tokens, %d threads)", path, settings.context_tokens, settings.threads)
        return cls(llm, context_tokens=settings.context_tokens, nice=settings.nice)

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
        self._submit(Generation(list(messages), session_id, max_tokens, temperature, stop, emit))
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
            with self._wake:
                self._wake.notify()

    def warm_up(self, system_prompt: str) -> None:
        """Runs one short generation after the system prompt, blocking: the weights are paged in and
        the prompt's KV stays cached, so the first caller's reply pays neither (cold it took ~2.5 s)."""
        done = threading.Event()
        messages = [Message("system", system_prompt), Message("user", "Hello.")]
        self._submit(Generation(messages, WARM_UP_SESSION, 2, 0.01, StopSignal(),
                                lambda item: done.set() if isinstance(item, BaseException) or item.finish else None))
        done.wait()

    async def clear_cache(self) -> None:
        """Forgets every cached prefix (the live context and the snapshots): the next prompt runs cold."""
        def clear() -> None:
            self._llm.reset()
            self.snapshots.clear()
            self._live = None
        await asyncio.wrap_future(self._chore(clear))

    async def close(self) -> None:
        with self._wake:
            self._closing = True
            self._wake.notify()
        await asyncio.to_thread(self._worker.join)
        self._llm.close()

    def _submit(self, generation: Generation) -> None:
        with self._wake:
            self._waiting.append(generation)
            self._wake.notify()

    def _chore(self, fn: Callable[[], None]) -> concurrent.futures.Future:
        """Runs `fn` on the worker between two steps (it owns the model)."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._wake:
            self._chores.append((fn, future))
            self._wake.notify()
        return future

    # Everything below runs on the worker thread, which owns the model.

    def _work(self) -> None:
        if self._nice:  # the compute threads llama.cpp starts from this one inherit it
            lower_this_thread(self._nice, "the LLM's decoding")
        while True:
            with self._wake:
                while not (self._closing or self._waiting or self._chores or self._has_work()):
                    self._wake.wait()
                if self._closing:
                    for generation in self._active + self._waiting:
                        generation.stop.set()
                    self._drop_stopped()
                    return
                arrived, self._waiting = self._waiting, []
                chores, self._chores = list(self._chores), collections.deque()
            for generation in arrived:
                self._arrivals += 1
                generation.arrival = self._arrivals
                self._active.append(generation)
                self.recent.append(generation.stats)
            for fn, future in chores:
                try:
                    fn()
                    future.set_result(None)
                except Exception as err:
                    future.set_exception(err)
            self._drop_stopped()
            generation = self._pick()
            if generation is not None:
                self._step(generation)

    def _has_work(self) -> bool:
        return bool(self._active)

    def _drop_stopped(self) -> None:
        for generation in [g for g in self._active if g.stop.is_set()]:
            self._active.remove(generation)
            generation.cancelled()
            log.debug("generation cancelled: %s", generation.stats)

    def _pick(self) -> Generation | None:
        """Which generation advances next: the live one while its turn lasts and nobody new waits;
        else the oldest one still in its first tokens; else the one that waited longest."""
        if not self._active:
            return None
        starting = [g for g in self._active if g.stats.completion_tokens < FIRST_TOKENS]
        live = self._live if self._live in self._active else None
        if live is not None and (live in starting or (self._turn_left > 0 and not starting)):
            return live
        if starting:
            return min(starting, key=lambda g: g.arrival)
        return min(self._active, key=lambda g: g.last_ran)

    def _step(self, generation: Generation) -> None:
        generation.last_ran = time.perf_counter()
        try:
            if generation.prompt_tokens is None:
                self._prepare(generation)
            if self._live is not generation or self._llm.n_tokens < len(generation.tokens):
                self._prefill(generation)
            else:
                self._decode(generation)
        except LlmError as err:
            self._failed(generation, err)
        except Exception as err:
            log.exception("generation failed for session %r", generation.session_id)
            # A failed decode can leave the KV cache and the token bookkeeping out of step: start clean.
            self._llm.reset()
            self.snapshots.clear()
            self._live = None
            self._failed(generation, err)

    def _prepare(self, generation: Generation) -> None:
        messages = fit_conversation(generation.messages, self.count_tokens,
                                    self.context_tokens - generation.max_tokens, session_id=generation.session_id)
        generation.tokens = self._template.tokens(messages)
        generation.prompt_tokens = generation.stats.prompt_tokens = len(generation.tokens)

    def _prefill(self, generation: Generation) -> None:
        """Makes the context hold the generation's tokens, one chunk per step; the last token is
        always evaluated again, since sampling needs its fresh logits."""
        llm = self._llm
        if self._live is not generation:
            if self._live is not None and self._live in self._active:
                self._live.stats.preempted += 1
            cached = min(self.snapshots.take_over(llm, generation.session_id, generation.tokens),
                         len(generation.tokens) - 1)
            if not generation.decoding:
                generation.stats.cached_tokens = cached
            llm.n_tokens = cached  # eval() drops the KV past this point
            self._live = generation
            self._turn_left = TURN_TOKENS
        start = llm.n_tokens
        llm.eval(generation.tokens[start:start + PREFILL_CHUNK_TOKENS])
        if llm.n_tokens == len(generation.tokens) and not generation.decoding:
            generation.stats.prefill_s = time.perf_counter() - generation.started

    def _decode(self, generation: Generation) -> None:
        """Samples one token from the live logits, hands out its text, and evaluates it."""
        llm, stats = self._llm, generation.stats
        if generation.sampler is None:
            # One sampler chain per generation, so its random state advances token by token as in
            # Llama.generate (llama-cpp-python 0.3.36, pinned: _init_sampler is its own helper).
            generation.sampler = llm._init_sampler(temp=generation.temperature, **SAMPLING)
        token = generation.sampler.sample(llm._ctx, -1)
        if self._ends_reply(token):
            self._finished(generation, "stop")
            return
        stats.completion_tokens += 1
        if stats.first_token_s is None:
            stats.first_token_s = time.perf_counter() - generation.started
        piece = generation.text.feed(llm.detokenize([token]))
        if piece:
            generation.emit(Delta(piece))
        if stats.completion_tokens >= generation.max_tokens:
            self._finished(generation, "length")
            return
        llm.eval([token])
        generation.tokens.append(token)
        self._turn_left -= 1

    def _finished(self, generation: Generation, reason: str) -> None:
        self._active.remove(generation)
        generation.finish(reason)
        log.debug("generation %s", generation.stats)

    def _failed(self, generation: Generation, err: BaseException) -> None:
        if generation in self._active:
            self._active.remove(generation)
        generation.stats.outcome = "error"
        generation.emit(err)

    def _ends_reply(self, token: int) -> bool:
        # Control tokens (<|im_start|>, <|endoftext|>) never belong in a spoken reply, even when
        # the model fails to emit its end-of-turn token first.
        return bool(llama_cpp.llama_vocab_is_eog(self._vocab, token)
                    or llama_cpp.llama_vocab_is_control(self._vocab, token))
