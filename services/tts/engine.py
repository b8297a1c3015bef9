"""What the TTS stage needs from a speech synthesizer, whatever runs it.

An engine turns one clause into float32 mono samples at its own rate, in as many
chunks as it likes. A synthesis can be cancelled from any thread at any moment:
the stage pulls chunks in a worker thread while the caller may hang up on the
event loop, so `cancel` must not wait for the chunk being made.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import numpy as np


class Synthesis(Protocol):
    """One clause being synthesized: an iterator of float32 chunks at `sample_rate`."""

    sample_rate: int

    def __iter__(self) -> Iterator[np.ndarray]: ...

    def __next__(self) -> np.ndarray: ...

    def cancel(self) -> None:
        """Stops the synthesis and frees what it holds (processes, pipes). Thread-safe, idempotent."""


class SpeechEngine(Protocol):
    name: str  # "piper", "espeak-ng", "flite": the prefix of qualified voices ("flite:slt")
    voices: tuple[str, ...]
    default_voice: str

    def synthesize(self, text: str, voice: str) -> Synthesis:
        """Starts synthesizing `text` (already normalised for speech) with one of `voices`."""
        ...
