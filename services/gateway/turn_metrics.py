"""Per-turn latency, measured where the caller feels it: at the gateway.

Caller-audio time is mapped back to the wall-clock time the gateway received
that audio, so "end of caller speech -> first reply audio sent" includes every
real gap (VAD hangover, recognition, decision, LLM, TTS, pacing), not a sum of
per-stage figures.
"""
from __future__ import annotations

import collections
import dataclasses
import time

from soundloop.v1 import interaction_pb2 as pb

from .events import duration


class ArrivalClock:
    """When did caller audio up to a given time arrive? (the last ~60 s are kept)"""

    def __init__(self) -> None:
        self._marks: collections.deque[tuple[float, float]] = collections.deque(maxlen=3000)

    def mark(self, audio_ms: float, wall: float | None = None) -> None:
        self._marks.append((audio_ms, time.monotonic() if wall is None else wall))

    def wall_at(self, audio_ms: float) -> float | None:
        for mark_ms, wall in self._marks:  # oldest first; the first frame reaching audio_ms
            if mark_ms >= audio_ms:
                return wall
        return self._marks[-1][1] if self._marks else None


@dataclasses.dataclass
class TurnClock:
    """Wall-clock marks of one reply turn (seconds, time.monotonic)."""
    decision: float
    speech_end: float | None = None  # when the caller's last speech frame arrived
    recognition: tuple[float, float] | None = None  # start, end of the answered transcript's ASR call
    overlap_onset: float | None = None  # when barge-in speech began arriving

    def metrics(self, first_token: float, first_clause: float, first_tts_audio: float,
                first_sent: float | None, last_sent: float | None) -> pb.TurnMetrics:
        m = pb.TurnMetrics()

        def put(field: str, seconds: float | None) -> None:
            if seconds is not None:
                getattr(m, field).CopyFrom(duration(max(0.0, seconds) * 1000))

        put("voice_to_voice", _minus(first_sent, self.speech_end))
        put("end_of_speech_to_decision", _minus(self.decision, self.speech_end))
        put("recognition", self.recognition[1] - self.recognition[0] if self.recognition else None)
        put("llm_first_token", _minus(first_token or None, self.decision))
        put("tts_first_audio", _minus(first_tts_audio or None, first_clause or None))
        put("decision_to_first_audio", _minus(first_sent, self.decision))
        put("barge_in_stop", _minus(last_sent, self.overlap_onset))
        return m


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b
