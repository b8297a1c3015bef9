"""Whisper output that is probably not what the caller said.

Whisper invents text on noise and silence: low-confidence decodes with a high
no-speech probability, repetition loops, and stock phrases from its training
subtitles ("Thank you.", "Thanks for watching!") on near-silent input. Dropping
them keeps a cough from becoming a turn.
"""
from __future__ import annotations

import re

import numpy as np

from soundloop.audio.codec import MODEL_RATE

NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
# Whisper's own threshold for a decode stuck in a loop (gzip compression ratio).
MAX_COMPRESSION_RATIO = 2.4
# A stock phrase is believed only if some 20 ms of the audio is louder than this.
QUIET_DBFS = -45.0
# With a stock phrase, this much no-speech probability is enough to reject.
PHANTOM_NO_SPEECH_PROB = 0.3

_STOCK_PHRASES = (
    "thank you", "thank you very much", "thanks", "thanks for watching", "thank you for watching",
    "thanks for watching and see you next time", "please subscribe", "subscribe",
    "like and subscribe", "bye", "bye bye", "goodbye", "you", "so", "oh", "hmm", "uh",
    "see you next time", "see you in the next video", "i'll see you next time",
    "subtitles by the amara.org community", "transcription by castingwords",
)


def normalize(text: str) -> str:
    """Lowercase words without punctuation, for comparing phrases."""
    return " ".join(re.sub(r"[^\w' ]+", " ", text.lower()).replace("'", "").split())


def loudest_dbfs(samples: np.ndarray, rate: int = MODEL_RATE) -> float:
    """Level of the loudest 20 ms block, in dBFS (-120 for digital silence)."""
    block = rate // 50
    n = samples.size // block
    if n == 0:
        rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0
    else:
        blocks = samples[:n * block].reshape(n, block).astype(np.float64)
        rms = float(np.sqrt(np.mean(np.square(blocks), axis=1)).max())
    return 20.0 * np.log10(max(rms, 1e-6))


PHANTOM_PHRASES = frozenset(normalize(p) for p in _STOCK_PHRASES)


def rejection(text: str, avg_logprob: float, no_speech_prob: float, compression_ratio: float,
              level_dbfs: float) -> str | None:
    """Why a decoded segment is likely a hallucination, or None to keep it."""
    words = normalize(text)
    if not words:
        return "no words"
    if no_speech_prob > NO_SPEECH_PROB and avg_logprob < LOW_LOGPROB:
        return "no speech"
    if compression_ratio > MAX_COMPRESSION_RATIO:
        return "repetition loop"
    if words in PHANTOM_PHRASES and (level_dbfs < QUIET_DBFS or no_speech_prob > PHANTOM_NO_SPEECH_PROB):
        return "stock phrase on near-silent audio"
    return None
