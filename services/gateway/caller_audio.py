"""The caller's audio at 16 kHz for the current caller turn, with a short pre-roll.

The encoder returns each chunk decoded to 16 kHz; this keeps just enough of it:
the last `PRE_ROLL_S` while nobody speaks (VAD onsets come slightly late), and
everything from the turn's first onset while a caller turn is open, pauses
included, so a sentence spoken in two breaths is recognized as one.
"""
from __future__ import annotations

from soundloop.audio.codec import MODEL_RATE as RATE

BYTES_PER_SAMPLE = 2
PRE_ROLL_S = 0.3
# Whisper sees at most 30 s; longer turns keep their most recent part.
MAX_TURN_S = 28.0


class CallerTurnAudio:
    def __init__(self) -> None:
        self._pcm = bytearray()
        self._start = 0  # stream sample index of self._pcm[0]
        self.turn_start: int | None = None  # sample of the turn's first onset (minus pre-roll)
        self.speech_end: int | None = None  # sample of the last offset inside the turn
        self.trimmed = False  # the open turn lost its oldest audio (over MAX_TURN_S) since last asked

    @property
    def end(self) -> int:
        return self._start + len(self._pcm) // BYTES_PER_SAMPLE

    @property
    def open(self) -> bool:
        return self.turn_start is not None

    def append(self, pcm16k: bytes, start_sample: int) -> None:
        if not self._pcm:
            self._start = start_sample
        self._pcm += pcm16k
        keep_from = self.end - int((PRE_ROLL_S if self.turn_start is None else MAX_TURN_S) * RATE)
        if keep_from > self._start:
            del self._pcm[:(keep_from - self._start) * BYTES_PER_SAMPLE]
            self._start = keep_from
            self.trimmed = self.turn_start is not None

    def restore(self, turn_start: int, pcm: bytes, speech_end: int | None) -> None:
        """Picks up a turn in progress saved by an earlier connection."""
        self._pcm = bytearray(pcm)
        self._start = self.turn_start = turn_start
        self.speech_end = speech_end

    def speech_started(self, sample: int) -> bool:
        """Marks an onset; returns True if it opened a new caller turn."""
        self.speech_end = None
        if self.turn_start is not None:
            return False
        self.turn_start = max(self._start, sample - int(PRE_ROLL_S * RATE))
        return True

    def speech_ended(self, sample: int) -> None:
        self.speech_end = sample

    def turn_pcm(self) -> bytes:
        """The open turn's audio so far (16 kHz PCM16LE)."""
        if self.turn_start is None:
            return b""
        offset = max(0, self.turn_start - self._start) * BYTES_PER_SAMPLE
        return bytes(self._pcm[offset:])

    @property
    def turn_bytes(self) -> int:
        """len(turn_pcm()), without the copy."""
        return 0 if self.turn_start is None else self.end * BYTES_PER_SAMPLE - max(self.turn_start,
                                                                                    self._start) * BYTES_PER_SAMPLE

    def close_turn(self) -> None:
        self.turn_start = None
        self.speech_end = None
        keep = int(PRE_ROLL_S * RATE) * BYTES_PER_SAMPLE
        if len(self._pcm) > keep:
            self._start = self.end - keep // BYTES_PER_SAMPLE
            del self._pcm[:-keep]
