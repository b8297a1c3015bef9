"""Speech recognition with faster-whisper (CTranslate2, int8 on CPU).

Greedy or beam decoding at temperature 0, each utterance on its own (no
conditioning on earlier text), no built-in VAD filter: the caller's VAD already
cut the audio. Whisper's own no-speech skipping is off so the scores of a
rejected decode still reach the caller; `hallucinations` decides what to drop.
"""
from __future__ import annotations

import dataclasses
import logging
import pathlib
import threading

import numpy as np

from services.encoder import hallucinations
from services.encoder.errors import InvalidRequest, RecognitionCancelled
from soundloop.audio.codec import MODEL_RATE
from soundloop.languages import language_code

log = logging.getLogger(__name__)



@dataclasses.dataclass(frozen=True)
class Segment:
    text: str
    start_ms: int
    end_ms: int


@dataclasses.dataclass(frozen=True)
class Transcript:
    text: str
    # Token-weighted mean log-probability over all decoded segments, kept or not.
    avg_logprob: float
    # Lowest no-speech probability among the 30 s windows: any speech counts.
    no_speech_prob: float
    segments: tuple[Segment, ...]


class Transcriber:
    """One WhisperModel; decodes one input at a time (CTranslate2 already uses every thread given)."""

    def __init__(self, model_dir: pathlib.Path, threads: int, beam_size: int):
        from faster_whisper import WhisperModel  # heavy import, after the server set its environment

        self._model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads)
        self._beam_size = beam_size
        self._lock = threading.Lock()
        self.name = model_dir.name
        self.multilingual = self._model.model.is_multilingual
        self._languages = frozenset(self._model.supported_languages)

    def language_for(self, requested: str) -> str:
        """Whisper's language code for a BCP-47 tag ("" means English); bad ones raise InvalidRequest."""
        code = language_code(requested)
        if not self.multilingual and code != "en":
            raise InvalidRequest(
                f"ASR model {self.name} recognizes English only; language {requested!r} is not supported")
        if code not in self._languages:
            raise InvalidRequest(f"ASR model {self.name} does not support language {requested!r}")
        return code

    def transcribe(self, samples: np.ndarray, language: str, timestamps: bool, background: bool = False,
                   cancelled: threading.Event | None = None) -> Transcript:
        """Recognizes 16 kHz float32 samples; `language` comes from `language_for`. One decode at a
        time, `background` or not: CTranslate2 already spreads one over every thread it was given.
        `cancelled` is looked at between segments only: a 30 s window is one CTranslate2 call."""
        with self._lock:
            decoding, _ = self._model.transcribe(
                samples, language=language, beam_size=self._beam_size, temperature=0.0,
                condition_on_previous_text=False, without_timestamps=not timestamps,
                vad_filter=False, no_speech_threshold=None)
            segments = []
            for seg in decoding:
                RecognitionCancelled.raise_if(cancelled)
                segments.append(seg)
        kept, tokens, logprob_sum, no_speech = [], 0, 0.0, 1.0
        for seg in segments:
            n = max(1, len(seg.tokens))
            tokens += n
            logprob_sum += seg.avg_logprob * n
            no_speech = min(no_speech, seg.no_speech_prob)
            span = samples[int(seg.start * MODEL_RATE):int(seg.end * MODEL_RATE) + 1]
            why = hallucinations.rejection(seg.text, seg.avg_logprob, seg.no_speech_prob, seg.compression_ratio,
                                           hallucinations.loudest_dbfs(span if span.size else samples))
            if why:
                log.info("dropped ASR segment (%s): avg_logprob %.2f no_speech %.2f",
                         why, seg.avg_logprob, seg.no_speech_prob)
                continue
            kept.append(Segment(seg.text.strip(), round(seg.start * 1000), round(seg.end * 1000)))
        return Transcript(
            text=" ".join(s.text for s in kept),
            avg_logprob=logprob_sum / tokens if tokens else 0.0,
            no_speech_prob=no_speech if segments else 1.0,
            segments=tuple(kept))
