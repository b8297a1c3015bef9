"""Caller turns for the latency benchmark: spoken questions in several synthetic voices.

Generated at run time from flite and espeak-ng voices (Debian), with a fixed
order, so every run and every system under test hears the same audio.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from soundloop.demo import speak

RATE = 16000
LEAD_S = 0.4
QUESTIONS = (
    "What is the capital of France?",
    "How many days are in a week?",
    "Can you tell me a short joke?",
    "What time does the bank usually open?",
    "Please spell the word cat.",
    "What color is the sky on a clear day?",
    "How do I reset my password?",
    "What is two plus three?",
    "Which planet is closest to the sun?",
    "Can you recommend a good book?",
    "What is the weather usually like in spring?",
    "How many legs does a spider have?",
    "Where can I find my account number?",
    "What is the opposite of hot?",
    "Can you say hello in Spanish?",
    "How long should I boil an egg?",
    "What is the largest ocean on Earth?",
    "Why do cats purr?",
    "What should I eat for breakfast?",
    "How far away is the moon?",
    "Can I change my delivery address?",
    "What is the name of our galaxy?",
    "How many minutes are in an hour?",
    "What is a good name for a dog?",
)
VOICES = ("slt", "rms", "awb", "kal16", "espeak:en-us", "espeak:en-gb")
INTERRUPTIONS = (
    "Wait, stop. What is the time in London?",
    "Sorry, can you tell me about trains instead?",
    "Hold on, how much does it cost?",
)


@dataclasses.dataclass(frozen=True)
class CallerTurn:
    text: str
    voice: str
    audio: np.ndarray  # 16 kHz float32: lead silence, speech, trailing silence
    speech_end_s: float  # where the speech really ends in `audio`


def speech_bounds(audio: np.ndarray, threshold_db: float = -40.0) -> tuple[float, float]:
    """First and last 10 ms frame louder than `threshold_db` below the clip's peak, in seconds."""
    frame = RATE // 100
    n = len(audio) // frame
    rms = np.sqrt(np.mean(audio[:n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    loud = np.nonzero(20 * np.log10(rms / rms.max()) > threshold_db)[0]
    return loud[0] * frame / RATE, (loud[-1] + 1) * frame / RATE


def turn(index: int, text: str | None = None, tail_s: float = 0.3) -> CallerTurn:
    text = text or QUESTIONS[index % len(QUESTIONS)]
    voice = VOICES[index % len(VOICES)]
    speech = speak(text, voice)
    start, end = speech_bounds(speech)
    speech = speech[int(start * RATE):int(end * RATE)]
    lead, tail = np.zeros(int(LEAD_S * RATE), np.float32), np.zeros(int(tail_s * RATE), np.float32)
    return CallerTurn(text, voice, np.concatenate([lead, speech, tail]), LEAD_S + len(speech) / RATE)


def interruption(index: int) -> np.ndarray:
    speech = speak(INTERRUPTIONS[index % len(INTERRUPTIONS)], VOICES[(index + 1) % len(VOICES)])
    start, end = speech_bounds(speech)
    return speech[int(start * RATE):int(end * RATE)]
