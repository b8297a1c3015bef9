"""Caller frames in, fixed-size chunks out: the only per-frame work past validation.

Callers send 10-200 ms frames (20 ms is usual); stages are called per chunk
(`chunk_ms`, 100 ms by default), never per frame. Intake also notes when each
piece of caller audio arrived, so that latency can be measured from the moment
the caller's last word reached the gateway.
"""
from __future__ import annotations

from soundloop.audio import codec

from .clock import Clock
from .turn_metrics import ArrivalClock


class FrameIntake:
    def __init__(self, fmt: codec.Format, chunk_ms: int, received_ms: float, clock: Clock):
        self._fmt = fmt
        self._chunk_bytes = fmt.byte_count(chunk_ms)
        self._clock = clock
        self._pending = bytearray()  # caller bytes not yet a whole chunk
        # The session's clock continues across reconnects: a resumed call starts where the last one stopped.
        self._received_samples = round(received_ms * fmt.sample_rate_hz / 1000)
        self.arrivals = ArrivalClock()

    def add(self, frame: bytes) -> list[bytes]:
        """Takes one validated frame; returns the chunks it completed (usually none or one)."""
        self._pending += frame
        self._received_samples += len(frame) // self._fmt.bytes_per_sample
        self.arrivals.mark(1000 * self._received_samples / self._fmt.sample_rate_hz, self._clock())
        chunks = []
        while len(self._pending) >= self._chunk_bytes:
            chunks.append(bytes(self._pending[:self._chunk_bytes]))
            del self._pending[:self._chunk_bytes]
        return chunks

    @property
    def received_ms(self) -> float:
        """Caller audio received in the session so far, earlier connections included."""
        return 1000 * self._received_samples / self._fmt.sample_rate_hz

    def flush(self) -> bytes:
        """The remainder shorter than a chunk, at the end of input."""
        rest = bytes(self._pending)
        self._pending.clear()
        return rest
