"""The baseline most people build first, on the same models, in one process:

  32 ms frames -> Silero VAD -> endpoint after 320 ms of silence -> Whisper on the
  whole utterance -> llama.cpp, streamed -> TTS on the first complete sentence.

No semantic endpointing, no speculation, no barge-in handling. Its end of speech
-> first audio latency is the fixed silence wait plus the stages' compute, run
back to back; the VAD pass itself costs ~0.1 ms per frame, so the audio is fed
as fast as it is processed and the silence wait is counted in audio time.
"""
from __future__ import annotations

import dataclasses
import re
import time

import numpy as np

from services.encoder.transcriber import Transcriber
from services.encoder.voice_activity import BoundaryKind, Hysteresis, SileroVad, VadStream
from services.tts.voice_catalog import load_engine
from soundloop.models import model_path
from soundloop.settings import Settings

RATE = 16000
ENDPOINT_SILENCE_MS = 320
PRE_ROLL_S = 0.3
SENTENCE_END = re.compile(r"[.!?](\s|$)")


@dataclasses.dataclass
class NaiveTurn:
    endpoint_wait_s: float  # true end of speech -> the silence endpoint fires
    recognition_s: float
    llm_first_sentence_s: float
    tts_first_audio_s: float
    transcript: str
    reply: str

    @property
    def voice_to_voice_s(self) -> float:
        return self.endpoint_wait_s + self.recognition_s + self.llm_first_sentence_s + self.tts_first_audio_s


class NaivePipeline:
    def __init__(self, settings: Settings, instructions: str):
        from llama_cpp import Llama

        settings = settings.resolved()
        self._vad = SileroVad(model_path("silero-vad", "silero_vad_16k.onnx"),
                              Hysteresis.from_ms(0.5, 64, ENDPOINT_SILENCE_MS))
        self._asr = Transcriber(model_path(settings.encoder.asr_model), settings.encoder.asr_threads, 1)
        self._llm = Llama(model_path=str(model_path(settings.llm.model, "model.gguf")), n_ctx=2048,
                          n_threads=settings.llm.threads, verbose=False)
        self._tts = load_engine(settings.tts.engine)
        self._instructions = instructions
        self._max_tokens = settings.llm.max_tokens

    def run(self, audio: np.ndarray, speech_end_s: float) -> NaiveTurn | None:
        stream = VadStream()
        start = end = None
        for i in range(0, len(audio), 512):
            for boundary in self._vad.process(stream, audio[i:i + 512], min(i + 512, len(audio))):
                if boundary.kind == BoundaryKind.START and start is None:
                    start = boundary.sample
                elif boundary.kind == BoundaryKind.END and start is not None:
                    end = boundary.sample
            if end is not None:
                break
        if start is None or end is None:
            return None
        fired_s = end / RATE + ENDPOINT_SILENCE_MS / 1000
        utterance = audio[max(0, start - int(PRE_ROLL_S * RATE)):end]

        t0 = time.perf_counter()
        transcript = self._asr.transcribe(utterance, "en", timestamps=False).text
        t1 = time.perf_counter()
        reply = self._first_sentence(transcript)
        t2 = time.perf_counter()
        synthesis = self._tts.synthesize(reply, "")
        next(iter(synthesis))
        synthesis.cancel()
        t3 = time.perf_counter()
        return NaiveTurn(fired_s - speech_end_s, t1 - t0, t2 - t1, t3 - t2, transcript, reply)

    def _first_sentence(self, transcript: str) -> str:
        text = ""
        stream = self._llm.create_chat_completion(
            messages=[{"role": "system", "content": self._instructions}, {"role": "user", "content": transcript}],
            max_tokens=self._max_tokens, temperature=0.3, stream=True)
        for chunk in stream:
            text += chunk["choices"][0]["delta"].get("content") or ""
            if SENTENCE_END.search(text.strip() + " ") and len(text.split()) >= 2:
                break
        stream.close()
        return text.strip() or "Okay."
