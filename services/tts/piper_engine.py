"""Piper (VITS over onnxruntime): the natural-sounding default voice.

Piper makes one chunk per sentence; a clause is usually one sentence, so the
first chunk is the whole clause (~0.1-0.3 s of compute for a short one).
"""
from __future__ import annotations

import json
import pathlib
import threading

import numpy as np
import onnxruntime
from piper import PiperVoice
from piper.config import PiperConfig, SynthesisConfig

# Piper scales every sentence to full scale; resampling can overshoot that and clip.
_SYNTHESIS = SynthesisConfig(volume=0.9)


def _session(model: pathlib.Path) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    # onnxruntime's own thread pool spins between ops by default, taking CPU from
    # ASR and the LLM on a small machine for no gain in a per-clause workload.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])


class PiperSynthesis:
    def __init__(self, voice: PiperVoice, lock: threading.Lock, text: str):
        self.sample_rate = voice.config.sample_rate
        self._lock = lock
        self._sentences = voice.synthesize(text, syn_config=_SYNTHESIS)  # lazy: one sentence per next()
        self._cancelled = False

    def __iter__(self) -> PiperSynthesis:
        return self

    def __next__(self) -> np.ndarray:
        # Checked between sentences: one inference cannot be interrupted.
        if self._cancelled:
            raise StopIteration
        with self._lock:
            return next(self._sentences).audio_float_array

    def cancel(self) -> None:
        self._cancelled = True


class PiperEngine:
    name = "piper"

    def __init__(self, model: pathlib.Path, config: pathlib.Path | None = None):
        config = config or model.with_name(model.name + ".json")
        with open(config, encoding="utf-8") as f:
            self._voice = PiperVoice(config=PiperConfig.from_dict(json.load(f)), session=_session(model))
        self.voices = (model.name.removesuffix(".onnx"),)  # "en_US-joe-medium"
        self.default_voice = self.voices[0]
        self.sample_rate = self._voice.config.sample_rate
        # One inference at a time: concurrent runs only split two cores and all finish late.
        self._lock = threading.Lock()
        # The first run allocates onnxruntime's buffers and loads espeak-ng's phoneme data.
        for _ in self.synthesize("Hello.", self.default_voice):
            pass

    @classmethod
    def from_models(cls) -> PiperEngine:
        from soundloop.models import model_path

        return cls(model_path("piper-joe", "en_US-joe-medium.onnx"))

    def synthesize(self, text: str, voice: str) -> PiperSynthesis:
        return PiperSynthesis(self._voice, self._lock, text)
