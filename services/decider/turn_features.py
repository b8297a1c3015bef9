"""What the learned turn-taking model reads per 100 ms chunk: one vector, built the same way
at training time (training/turn_taking/features.py) and in the decider.

Ten features, all in [0, ~3]:
  in_speech, vad_probability          the encoder's VAD at the chunk's end / mean over the chunk
  speech_s, silence_s                 log(1 + seconds) of the current run
  energy, voiced, pitch               services/encoder/prosody.py: (dBFS + 90) / 90, voiced fraction,
                                      semitones above 100 Hz / 12 (0 when unvoiced)
  has_text, text_end_probability      a transcript of the turn so far is known, and the
                                      end-of-turn LM's probability that it is finished (0 without)
  reply_active                        soundloop is speaking
"""
from __future__ import annotations

import math

import numpy as np

NAMES = ("in_speech", "vad_probability", "speech_s", "silence_s", "energy", "voiced", "pitch", "has_text",
         "text_end_probability", "reply_active")
SIZE = len(NAMES)
# Columns the training and evaluation scripts read by name.
IN_SPEECH, SILENCE_S, HAS_TEXT, TEXT_END_P = (NAMES.index(n) for n in ("in_speech", "silence_s", "has_text",
                                                                        "text_end_probability"))


def vector(*, in_speech: bool, vad_probability: float, speech_ms: int, silence_ms: int, energy_db: float,
           voiced: float, pitch_semitones: float, text_end_probability: float | None,
           reply_active: bool) -> np.ndarray:
    has_text = text_end_probability is not None
    return np.array([
        float(in_speech), vad_probability, math.log1p(speech_ms / 1000), math.log1p(silence_ms / 1000),
        (max(-90.0, energy_db) + 90) / 90, voiced, pitch_semitones / 12 if voiced > 0 else 0.0,
        float(has_text), text_end_probability if has_text else 0.0, float(reply_active),
    ], np.float32)
