"""Per-session copies of the llama.cpp context, so interleaved conversations keep their prefix cache.

A `Llama` object holds the KV cache of one token sequence. llama-cpp-python reuses the longest
prefix a new prompt shares with that sequence, which serves one conversation well: turn 3 only
evaluates the new user message. With several sessions taking turns, each would evict the others'
prefix. `SessionSnapshots` copies the live KV out when another session takes the context (and only
then: a lone conversation pays nothing) and copies it back when its session returns.

llama-cpp-python's own `LlamaRAMCache` does the same through `Llama.save_state`, but that also
copies a logits array of up to n_batch x n_vocab floats per state (300 MB for Qwen2.5) which
the sampler no longer reads; here only llama.cpp's state blob and the token ids are kept.
"""
from __future__ import annotations

import collections
import ctypes
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence

import llama_cpp
import numpy as np

log = logging.getLogger(__name__)

# ~28 KB of KV per token for Qwen2.5-1.5B, ~23 KB for SmolLM2-135M: room for ~9,000 tokens.
DEFAULT_CAPACITY_BYTES = 256 * 1024 * 1024
# Restoring costs a copy of the state (a few ms); below this gain, re-evaluating is as cheap.
MIN_GAIN_TOKENS = 16
# A snapshot unused this long goes: its session has most likely ended (callers speak every few
# seconds), and with calls opening and ending all day, keeping them until the byte cap is reached
# would make the stage's memory climb for hours (seen in the soak: +20 MB a minute). A session
# back after a longer silence pays one prefill of its prompt.
MAX_IDLE_S = 120.0


@dataclasses.dataclass(frozen=True)
class Snapshot:
    tokens: np.ndarray
    state: ctypes.Array
    size: int


def common_prefix(evaluated: np.ndarray, prompt: Sequence[int]) -> int:
    n = min(len(evaluated), len(prompt))
    if n == 0:
        return 0
    differs = np.flatnonzero(evaluated[:n] != np.asarray(prompt[:n], dtype=evaluated.dtype))
    return int(differs[0]) if differs.size else n


class SessionSnapshots:
    """KV snapshots by session id, least recently used dropped first. Call only with the model's lock held."""

    def __init__(self, capacity_bytes: int = DEFAULT_CAPACITY_BYTES, min_gain_tokens: int = MIN_GAIN_TOKENS,
                 max_idle_s: float = MAX_IDLE_S, clock: Callable[[], float] = time.monotonic):
        self.capacity_bytes = capacity_bytes
        self._min_gain = min_gain_tokens
        self._max_idle_s = max_idle_s
        self._clock = clock
        # Least recently used first; each with when it was last saved or restored.
        self._snapshots: collections.OrderedDict[str, Snapshot] = collections.OrderedDict()
        self._used: dict[str, float] = {}
        # Session whose tokens the live context holds.
        self._owner: str | None = None
        self.saves = 0
        self.restores = 0

    @property
    def size_bytes(self) -> int:
        return sum(s.size for s in self._snapshots.values())

    def __contains__(self, session_id: str) -> bool:
        return session_id in self._snapshots

    def take_over(self, llm: llama_cpp.Llama, session_id: str, prompt: Sequence[int]) -> int:
        """Hands the live context to `session_id`, restoring the snapshot that shares most of `prompt`.

        Returns how many leading tokens of `prompt` the live context already holds.
        """
        self._drop_idle()
        live = common_prefix(llm.input_ids[:llm.n_tokens], prompt)
        if self._owner is not None and self._owner != session_id and llm.n_tokens >= self._min_gain:
            self._save(llm, self._owner)
        best_id, best_len = self._best_match(prompt)
        if best_id is not None and best_len >= live + self._min_gain:
            self._restore(llm, best_id)
            live = best_len
        self._owner = session_id
        return live

    def forget(self, session_id: str) -> None:
        self._snapshots.pop(session_id, None)
        self._used.pop(session_id, None)

    def clear(self) -> None:
        self._snapshots.clear()
        self._used.clear()
        self._owner = None

    def _drop_idle(self) -> None:
        cutoff = self._clock() - self._max_idle_s
        while self._snapshots:
            oldest = next(iter(self._snapshots))
            if self._used[oldest] >= cutoff:
                return
            self.forget(oldest)

    def _best_match(self, prompt: Sequence[int]) -> tuple[str | None, int]:
        best_id, best_len = None, 0
        for session_id, snapshot in self._snapshots.items():
            n = common_prefix(snapshot.tokens, prompt)
            if n > best_len:
                best_id, best_len = session_id, n
        return best_id, best_len

    def _save(self, llm: llama_cpp.Llama, session_id: str) -> None:
        size = llama_cpp.llama_state_get_size(llm.ctx)
        state = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_get_data(llm.ctx, state, size)
        if written > size:
            raise RuntimeError(f"llama.cpp wrote {written} state bytes into {size}")
        self._snapshots.pop(session_id, None)
        self._snapshots[session_id] = Snapshot(llm.input_ids[:llm.n_tokens].copy(), state, written)
        self._used[session_id] = self._clock()
        self.saves += 1
        while self.size_bytes > self.capacity_bytes and len(self._snapshots) > 1:
            dropped = next(iter(self._snapshots))
            self.forget(dropped)
            log.debug("dropped the KV snapshot of session %r (capacity %d bytes)", dropped, self.capacity_bytes)

    def _restore(self, llm: llama_cpp.Llama, session_id: str) -> None:
        snapshot = self._snapshots[session_id]
        if llama_cpp.llama_state_set_data(llm.ctx, snapshot.state, snapshot.size) != snapshot.size:
            llm.n_tokens = 0
            raise RuntimeError(f"llama.cpp refused the KV snapshot of session {session_id!r}")
        n = len(snapshot.tokens)
        llm.input_ids[:n] = snapshot.tokens
        llm.n_tokens = n
        self.restores += 1
        self._snapshots.move_to_end(session_id)
        self._used[session_id] = self._clock()
