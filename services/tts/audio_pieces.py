"""Engine audio (float32 at the engine's rate, chunks of any length) -> wire pieces.

Pieces are a fixed length of audio in the caller's format, so the gateway can
pace them and count what was played. The resampler is a stream: resampling
each chunk on its own would put a filter edge (a click) at every boundary.
"""
from __future__ import annotations

import numpy as np
import soxr

from soundloop.audio import codec

PIECE_MS = 60  # long enough to keep per-message overhead low, short enough to start sending at once


class PieceEncoder:
    def __init__(self, input_rate: int, fmt: codec.Format, piece_ms: int = PIECE_MS):
        self._fmt = fmt
        self._resampler = None
        if input_rate != fmt.sample_rate_hz:
            self._resampler = soxr.ResampleStream(input_rate, fmt.sample_rate_hz, 1, dtype="float32", quality="HQ")
        self.piece_bytes = fmt.byte_count(piece_ms)
        self._pending = bytearray()

    def push(self, samples: np.ndarray) -> list[bytes]:
        """Pieces completed by `samples`; the remainder waits for more."""
        samples = samples.astype(np.float32, copy=False)
        if self._resampler is not None:
            samples = self._resampler.resample_chunk(samples)
        self._pending += codec.encode(self._fmt, samples)
        return self._take(self.piece_bytes)

    def finish(self) -> list[bytes]:
        """The remaining pieces, the last one shorter. The encoder is spent afterwards."""
        if self._resampler is not None:
            self._pending += codec.encode(self._fmt, self._resampler.resample_chunk(np.zeros(0, np.float32), last=True))
        return self._take(1)

    def _take(self, minimum: int) -> list[bytes]:
        pieces = []
        while len(self._pending) >= minimum and self._pending:
            piece = bytes(self._pending[:self.piece_bytes])
            del self._pending[:self.piece_bytes]
            pieces.append(piece)
        return pieces
