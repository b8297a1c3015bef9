"""The speech recognizers of an encoder replica, and which one hears which language.

English goes to the primary engine, Moonshine by default: its cost grows with the
audio (~0.1 s for a 2.5 s utterance on 2 cores), where Whisper pads every input
to 30 s (~0.65-1.1 s whatever the length), so the turn can be re-recognized while
the caller speaks and only a short final pass remains at the end. Moonshine is
English-only; other languages go to a multilingual Whisper when the replica
loads one (`asr_multilingual_model`), and are refused up front otherwise.
"""
from __future__ import annotations

import pathlib
import threading
from typing import Protocol

import numpy as np

from services.encoder.errors import InvalidRequest
from services.encoder.transcriber import Transcript
from soundloop.languages import language_code
from soundloop.models import model_path
from soundloop.settings import EncoderSettings

# Whisper pads every input to 30 s: its one pass per utterance or window wants both cores.
WHISPER_THREADS = 2


class SpeechRecognizer(Protocol):
    name: str
    multilingual: bool

    def language_for(self, requested: str) -> str: ...

    # `background`: an offline clip's decode, which must not hold a live call's recognition behind it.
    # `cancelled`: once set, the decode may stop early and raise RecognitionCancelled.
    def transcribe(self, samples: np.ndarray, language: str, timestamps: bool, background: bool = False,
                   cancelled: threading.Event | None = None) -> Transcript: ...


def load(name: str, threads: int, beam_size: int) -> SpeechRecognizer:
    """The engine for an assembled model folder: Moonshine by name, Whisper (CTranslate2) otherwise."""
    folder: pathlib.Path = model_path(name)
    if name.startswith("moonshine"):
        from services.encoder.moonshine import MoonshineTranscriber
        return MoonshineTranscriber(folder, threads)
    from services.encoder.transcriber import Transcriber
    return Transcriber(folder, threads, beam_size)


class Recognizers:
    def __init__(self, primary: SpeechRecognizer, multilingual: SpeechRecognizer | None = None):
        self.primary = primary
        self.multilingual = multilingual

    @classmethod
    def from_settings(cls, enc: EncoderSettings) -> Recognizers:
        primary = load(enc.asr_model, enc.asr_threads, enc.asr_beam_size)
        other = None
        if enc.asr_multilingual_model and not primary.multilingual:
            other = load(enc.asr_multilingual_model, WHISPER_THREADS, enc.asr_beam_size)
        return cls(primary, other)

    @property
    def names(self) -> str:
        return self.primary.name + (f" + {self.multilingual.name}" if self.multilingual else "")

    def for_language(self, requested: str) -> tuple[SpeechRecognizer, str]:
        """The engine and its language code for a BCP-47 tag ("" = English); InvalidRequest if none hears it."""
        code = language_code(requested)
        if code == "en" or self.primary.multilingual or self.multilingual is None:
            if code != "en" and not self.primary.multilingual:
                raise InvalidRequest(
                    f"language {requested!r} is not supported: ASR model {self.primary.name} recognizes English "
                    "only and no multilingual model is loaded (set SOUNDLOOP_ENCODER__ASR_MULTILINGUAL_MODEL, "
                    "e.g. whisper-base)")
            return self.primary, self.primary.language_for(requested)
        return self.multilingual, self.multilingual.language_for(requested)

    def for_clip(self, requested: str) -> tuple[SpeechRecognizer, str]:
        """The engine for an offline clip: Whisper when the replica has one loaded (its cost per 30 s
        window is no burden on a whole file, its WER on real speech was lower, and its segments
        are sentences), else the one `for_language` picks."""
        engine, code = self.for_language(requested)
        if self.multilingual is not None and engine is self.primary:
            return self.multilingual, self.multilingual.language_for(requested)
        return engine, code

    def warm_up(self, samples: np.ndarray) -> None:
        for engine in (self.primary, self.multilingual):
            if engine is not None:
                engine.transcribe(samples, engine.language_for("" if not engine.multilingual else "en"), False)
