"""The baseline most people build first, on the same models, in one process:

  32 ms frames -> Silero VAD -> endpoint after 320 ms of silence -> Whisper on the
  whole utterance -> llama.cpp, streamed -> TTS on whole sentences -> play to the end.

No semantic endpointing, no speculation, no barge-in or sound handling. It is
half duplex: an utterance that ends while a reply plays is answered after that
reply has finished. Telephony callers reach it through the same G.711 8 kHz path.

It runs as a simulation on the caller's timeline rather than in real time: the
VAD pass costs ~0.1 ms per frame, so the audio is fed as fast as it is processed,
silence waits are counted in audio time, and each stage's compute is measured in
wall-clock time and added where it happens. Reply audio after the first sentence
is not synthesised; its length is the first sentence's seconds per character times
the rest of the text.
"""
from __future__ import annotations

import dataclasses
import os
import re
import time

import numpy as np

from bench.outcome import Outcome, ReplyTurn
from bench.scenarios import Scenario
from bench.sources import RATE, silence
from services.encoder import recognizers
from services.encoder.voice_activity import BoundaryKind, Hysteresis, SileroVad, VadStream
from services.tts.voice_catalog import load_engine
from soundloop import process_env
from soundloop.audio import codec
from soundloop.models import model_path
from soundloop.settings import GatewaySettings, Settings, load_settings
from soundloop.v1 import audio_pb2

MULAW8K = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_MULAW, sample_rate_hz=8000)

ENDPOINT_SILENCE_MS = 320
PRE_ROLL_S = 0.3
VAD_FRAME = 512
SENTENCE_END = re.compile(r"[.!?](\s|$)")


@dataclasses.dataclass
class _Reply:
    transcript: str
    first_sentence: str
    text: str
    recognition_s: float
    llm_first_sentence_s: float
    tts_first_audio_s: float
    seconds_per_char: float


class NaiveSystem:
    name = "naive"

    def __init__(self, settings: Settings):
        from llama_cpp import Llama

        settings = settings.resolved()
        self._vad = SileroVad(model_path("silero-vad", "silero_vad_16k.onnx"),
                              Hysteresis.from_ms(0.5, 64, ENDPOINT_SILENCE_MS))
        self._asr = recognizers.load(settings.encoder.asr_model, settings.encoder.asr_threads, 1)
        self._llm = Llama(model_path=str(model_path(settings.llm.model, "model.gguf")), n_ctx=2048,
                          n_threads=settings.llm.threads, verbose=False)
        self._tts = load_engine(settings.tts.engine)
        self._default_instructions = GatewaySettings().default_instructions
        self._max_tokens = settings.llm.max_tokens

    @classmethod
    def load(cls, profile: str, asr_model: str = "") -> NaiveSystem:
        """`asr_model`: the profile's own when empty (e.g. "whisper-base" for the pre-Moonshine one)."""
        # Whisper and llama.cpp share this process: load them with the llama.cpp-friendly
        # OpenMP setting, then restore the environment so later processes never inherit it.
        saved = dict(os.environ)
        process_env.apply(process_env.LLM_STAGE)
        try:
            return cls(load_settings(profile=profile, **({"encoder": {"asr_model": asr_model}} if asr_model else {})))
        finally:
            os.environ.clear()
            os.environ.update(saved)

    # ------------------------------------------------------------ scenarios
    def run(self, scenario: Scenario) -> Outcome:
        if scenario.category == "offline":
            return self._offline(scenario)
        # The caller stays on the line (silent) after the scenario's audio, as in the live runs.
        audio = np.concatenate([_through_line(scenario.audio, scenario.telephony), silence(scenario.tail_s)])
        history = [{"role": "system", "content": scenario.instructions or self._default_instructions}]
        outcome = Outcome(scenario.id, self.name)
        busy_until = 0.0  # the end of the reply playing now: the loop answers nothing before it
        overlay_pending = scenario.overlay is not None
        position, stream = 0, VadStream()
        start = None
        while position < len(audio):
            chunk = audio[position:position + VAD_FRAME]
            position += len(chunk)
            for boundary in self._vad.process(stream, chunk, position):
                if boundary.kind == BoundaryKind.START and start is None:
                    start = boundary.sample
                elif boundary.kind == BoundaryKind.END and start is not None:
                    fired_s = boundary.sample / RATE + ENDPOINT_SILENCE_MS / 1000
                    utterance = audio[max(0, start - int(PRE_ROLL_S * RATE)):boundary.sample]
                    start = None
                    turn = self._answer(utterance, history, outcome, max(fired_s, busy_until),
                                        full=scenario.overlay is not None or scenario.category == "instruction")
                    if turn is None:
                        continue
                    busy_until = turn.last_audio_s
                    if overlay_pending:  # the caller talks over the first reply
                        overlay_pending = False
                        outcome.overlay_at = turn.first_audio_s + scenario.overlay_delay_s
                        audio = _overlaid(audio, _through_line(scenario.overlay, scenario.telephony),
                                          outcome.overlay_at)
        outcome.call_s = len(audio) / RATE
        return outcome

    def _answer(self, utterance: np.ndarray, history: list[dict], outcome: Outcome, begin_s: float,
                full: bool) -> ReplyTurn | None:
        reply = self._reply(utterance, history, full)
        outcome.transcripts.append(reply.transcript)
        if not reply.text:
            return None
        first = begin_s + reply.recognition_s + reply.llm_first_sentence_s + reply.tts_first_audio_s
        length = len(reply.text if full else reply.first_sentence) * reply.seconds_per_char
        turn = ReplyTurn(first, first + length, text=reply.text, cause="speech", prompt=reply.transcript,
                         stages={"recognition": reply.recognition_s, "llm_first_sentence": reply.llm_first_sentence_s,
                                 "tts_first_audio": reply.tts_first_audio_s})
        outcome.turns.append(turn)
        if not outcome.milestones:
            outcome.milestones = {"final_transcript": begin_s + reply.recognition_s,
                                  "respond_decision": begin_s + reply.recognition_s,
                                  "first_reply_text": begin_s + reply.recognition_s + reply.llm_first_sentence_s,
                                  "first_reply_audio": first}
        return turn

    def _reply(self, utterance: np.ndarray, history: list[dict], full: bool) -> _Reply:
        t0 = time.perf_counter()
        transcript = self._asr.transcribe(utterance, "en", timestamps=False).text.strip()
        t1 = time.perf_counter()
        if not transcript:
            return _Reply("", "", "", t1 - t0, 0.0, 0.0, 0.0)
        history.append({"role": "user", "content": transcript})
        first, text, t2 = "", "", None
        stream = self._llm.create_chat_completion(messages=history, max_tokens=self._max_tokens, temperature=0.3,
                                                  stream=True)
        for chunk in stream:
            text += chunk["choices"][0]["delta"].get("content") or ""
            if t2 is None and SENTENCE_END.search(text.strip() + " ") and len(text.split()) >= 2:
                t2, first = time.perf_counter(), text.strip()
                if not full:
                    break
        stream.close()
        if t2 is None:
            t2, first = time.perf_counter(), text.strip() or "Okay."
        text = text.strip() or first
        t3 = time.perf_counter()
        synthesis = self._tts.synthesize(first, "")
        audio = [next(iter(synthesis))]
        t4 = time.perf_counter()
        audio.extend(synthesis)  # only to time speech: seconds of audio per character
        seconds = sum(len(a) for a in audio) / synthesis.sample_rate
        history.append({"role": "assistant", "content": text})
        return _Reply(transcript, first, text, t1 - t0, t2 - t1, t4 - t3, seconds / max(1, len(first)))

    def _offline(self, scenario: Scenario) -> Outcome:
        audio = _through_line(scenario.audio, scenario.telephony)
        transcript = self._asr.transcribe(audio, "en", timestamps=False).text.strip()
        if scenario.expect == "transcribe":
            return Outcome(scenario.id, self.name, transcripts=[transcript])
        # It hears words only: the question is answered from the transcript.
        answer = self._llm.create_chat_completion(messages=[
            {"role": "system", "content": self._default_instructions},
            {"role": "user", "content": f"Transcript of a clip: {transcript!r}. {scenario.question}"}],
            max_tokens=self._max_tokens, temperature=0.3)["choices"][0]["message"]["content"]
        return Outcome(scenario.id, self.name, answer=answer)


def _through_line(audio: np.ndarray, telephony: bool) -> np.ndarray:
    """What the pipeline hears: 16 kHz as sent, or after the 8 kHz mu-law phone line."""
    return codec.through_phone_line(audio, RATE) if telephony else audio.astype(np.float32)


def _overlaid(audio: np.ndarray, overlay: np.ndarray, at_s: float) -> np.ndarray:
    start = int(at_s * RATE)
    out = np.zeros(max(len(audio), start + len(overlay)) + int(1.0 * RATE), np.float32)
    out[:len(audio)] = audio
    out[start:start + len(overlay)] += overlay
    return out
