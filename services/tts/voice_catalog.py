"""Which engines a TTS stage holds, and which (engine, voice) a request's voice names.

A voice is named "engine:voice" ("flite:slt", "espeak-ng:en-gb", "piper:en_US-joe-medium"),
by the engine alone ("flite": its default voice), or by the bare voice ("slt"),
looked up in the default engine first. Empty means the stage's default.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping

from services.tts.engine import SpeechEngine
from soundloop.errors import InvalidRequest
from soundloop.settings import TtsSettings

log = logging.getLogger(__name__)

# Engines that cost nothing to hold (a binary run per clause) are loaded beside the default one.
CHEAP_ENGINES = ("espeak-ng", "flite")


def load_engine(name: str) -> SpeechEngine:
    if name == "piper":
        from services.tts.piper_engine import PiperEngine

        return PiperEngine.from_models()
    from services.tts.command_engines import EspeakEngine, FliteEngine

    if name == "espeak-ng":
        return EspeakEngine()
    if name == "flite":
        return FliteEngine()
    raise ValueError(f"unknown TTS engine {name!r}; known: piper, espeak-ng, flite")


class VoiceCatalog:
    def __init__(self, engines: Mapping[str, SpeechEngine], default_engine: str, default_voice: str = ""):
        if default_engine not in engines:
            raise ValueError(f"default TTS engine {default_engine!r} is not among {sorted(engines)}")
        self.engines = dict(engines)
        self._default_engine = default_engine
        engine = self.engines[default_engine]
        self.default = self._lookup(default_voice.strip()) if default_voice.strip() else (engine, engine.default_voice)

    @classmethod
    def from_settings(cls, tts: TtsSettings) -> VoiceCatalog:
        """The profile's engine (which must load) plus the cheap engines this machine has."""
        engines = {tts.engine: load_engine(tts.engine)}
        for name in CHEAP_ENGINES:
            if name not in engines:
                try:
                    engines[name] = load_engine(name)
                except (RuntimeError, OSError) as err:
                    log.info("TTS engine %s not available: %s", name, err)
        return cls(engines, tts.engine, tts.voice)

    @property
    def voices(self) -> list[str]:
        """Every voice, qualified: "engine:voice"."""
        return [f"{name}:{voice}" for name, engine in self.engines.items() for voice in engine.voices]

    def resolve(self, voice: str) -> tuple[SpeechEngine, str]:
        """The engine and its voice for a request's `voice`; InvalidRequest naming the valid ones."""
        voice = voice.strip()
        return self._lookup(voice) if voice else self.default

    def _lookup(self, voice: str) -> tuple[SpeechEngine, str]:
        engine_name, _, name = voice.rpartition(":")
        if engine_name:
            engine = self.engines.get(engine_name)
            if engine is not None and (not name or name in engine.voices):
                return engine, name or engine.default_voice
        elif voice in self.engines:
            return self.engines[voice], self.engines[voice].default_voice
        else:
            ordered = [self.engines[self._default_engine]] + list(self.engines.values())
            for engine in ordered:
                if voice in engine.voices:
                    return engine, voice
        raise InvalidRequest(f"unknown voice {voice!r}; valid voices: {', '.join(self.voices)}")
