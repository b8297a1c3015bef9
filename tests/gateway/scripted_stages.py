"""Stage clients that play a scripted call on virtual time, for orchestration tests.

The caller's speech is a script on the session's stream clock ("words W from
1.0 to 2.2 s"); the client streams any audio of the right length and the
scripted encoder decides what it contains from the stream position it keeps in
its stream state, as the real encoder does (so a resumed session continues the
script). The 16 kHz audio it returns carries, in every sample, the number of the
utterance spoken there (0: silence), so the scripted recognizer can tell which
words any stretch of turn audio holds, resumed turns included. The decider is the
real turn policy with scripted end-of-turn probabilities. The LLM streams a
scripted reply word by word, the TTS returns silence as long as the clause would
take to say; both can be told to fail. Every call takes its (virtual) time.
"""
from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable

import numpy as np

from services.decider import turn_policy
from soundloop import errors
from soundloop.audio import codec
from soundloop.audio.codec import MODEL_RATE
from soundloop.decider.v1 import decider_pb2
from soundloop.encoder.v1 import encoder_pb2
from soundloop.llm.v1 import llm_pb2
from soundloop.tts.v1 import tts_pb2
from tests.support.end_of_turn import ScriptedEstimator

VAD_START_MS = 64  # what the real VAD waits before it calls speech speech, and after it goes quiet
VAD_END_MS = 160


@dataclasses.dataclass(frozen=True)
class Said:
    start_s: float
    end_s: float
    text: str

    @property
    def span(self) -> tuple[int, int]:
        return round(self.start_s * MODEL_RATE), round(self.end_s * MODEL_RATE)


@dataclasses.dataclass(frozen=True)
class Heard:
    """An environment sound the scripted encoder tags, in every chunk it overlaps."""
    start_s: float
    end_s: float
    label: str
    score: float = 0.8


@dataclasses.dataclass
class Timings:
    encoder_s: float = 0.004
    asr_s: float = 0.3
    decider_s: float = 0.002
    llm_first_token_s: float = 0.15
    llm_token_s: float = 0.03
    tts_first_audio_s: float = 0.05
    tts_chars_per_s: float = 15.0  # speaking rate of the synthesized reply


class ScriptedStages:
    def __init__(self, said: list[Said], end_of_turn: dict[str, float], reply: Callable[[str], str] | str = "Sure.",
                 timings: Timings | None = None, sounds: tuple[Heard, ...] = ()):
        self.said = sorted(said, key=lambda s: s.start_s)
        self.sounds = sounds
        self.estimator = ScriptedEstimator(end_of_turn)
        self.reply = reply if callable(reply) else (lambda _prompt, text=reply: text)
        self.t = timings or Timings()
        # Raised by the next reply's stream after all its words and a stall, as when a connection drops.
        self.llm_failure: Exception | None = None
        self.tts_failure: Exception | None = None  # raised instead of the next clause's audio
        # Recognitions asked for before this (loop time, s) fail, as while an encoder is down.
        self.asr_down_until_s = 0.0
        self.prompts: list[str] = []  # the last user message of every Generate
        self.tts_texts: list[str] = []  # every clause synthesized, in order
        self.recognitions = 0

    # ------------------------------------------------------------ encoder

    async def analyze_chunk(self, req: encoder_pb2.AnalyzeChunkRequest) -> encoder_pb2.AnalyzeChunkResponse:
        await asyncio.sleep(self.t.encoder_s)
        fmt = codec.Format.from_proto(req.format)
        start = int(req.stream_state or b"0")
        end = start + round(len(req.audio) // fmt.bytes_per_sample * MODEL_RATE / fmt.sample_rate_hz)
        pcm = np.zeros(end - start, np.int16)
        out = encoder_pb2.AnalyzeChunkResponse(stream_state=str(end).encode(), pcm_start_sample=start)
        for number, said in enumerate(self.said, 1):
            s, e = said.span
            pcm[max(s, start) - start:max(min(e, end) - start, 0)] = number
            if start <= s + _samples(VAD_START_MS) < end:
                out.boundaries.add(kind=encoder_pb2.BOUNDARY_KIND_SPEECH_START, sample=s)
            if start <= e + _samples(VAD_END_MS) < end:
                out.boundaries.add(kind=encoder_pb2.BOUNDARY_KIND_SPEECH_END, sample=e)
        out.pcm16k = pcm.tobytes()
        for sound in self.sounds:
            s, e = round(sound.start_s * MODEL_RATE), round(sound.end_s * MODEL_RATE)
            if s < end and start < e:
                out.sound_tags.add(label=sound.label, score=sound.score, start_sample=max(s, start),
                                   end_sample=min(e, end))
        heard = [s for s in self.said if s.span[0] + _samples(VAD_START_MS) < end]
        last = heard[-1] if heard else None
        if last and end < last.span[1] + _samples(VAD_END_MS):
            out.in_speech = True
            out.speech_ms = (end - last.span[0]) * 1000 // MODEL_RATE
            out.pending_silence_ms = max(0, end - last.span[1]) * 1000 // MODEL_RATE
        else:
            out.silence_ms = (end - (last.span[1] if last else 0)) * 1000 // MODEL_RATE
        return out

    async def transcribe_utterance(self, req: encoder_pb2.TranscribeUtteranceRequest
                                   ) -> encoder_pb2.TranscribeUtteranceResponse:
        """The words of every scripted utterance in the audio, cut to the share of it present."""
        asked = asyncio.get_running_loop().time()
        await asyncio.sleep(self.t.asr_s)
        self.recognitions += 1
        if asked < self.asr_down_until_s:
            raise errors.Unavailable("no encoder replica could serve the call (RayActorError)", stage="encoder")
        numbers, counts = np.unique(np.frombuffer(req.pcm16k, np.int16), return_counts=True)
        words = []
        for number, count in zip(numbers, counts):
            if number == 0:
                continue
            said = self.said[number - 1]
            spoken = said.text.split()
            words += spoken[:round(len(spoken) * count / (said.span[1] - said.span[0]))]
        return encoder_pb2.TranscribeUtteranceResponse(text=" ".join(words))

    # ------------------------------------------------------------ decider, LLM, TTS

    async def decide(self, req: decider_pb2.DecideRequest) -> decider_pb2.DecideResponse:
        await asyncio.sleep(self.t.decider_s)
        return turn_policy.decide(req.state, req.observation, req.policy, self.estimator)

    async def generate(self, req: llm_pb2.GenerateRequest) -> AsyncIterator[llm_pb2.GenerateResponse]:
        prompt = req.messages[-1].content
        self.prompts.append(prompt)
        failure, self.llm_failure = self.llm_failure, None
        await asyncio.sleep(self.t.llm_first_token_s)
        words = self.reply(prompt).split(" ")
        for i, word in enumerate(words[:req.max_tokens or len(words)]):  # a word per token
            if i:
                await asyncio.sleep(self.t.llm_token_s)
            yield llm_pb2.GenerateResponse(delta=(" " if i else "") + word)
        if failure is not None:
            await asyncio.sleep(2.0)
            raise failure
        yield llm_pb2.GenerateResponse(finish_reason=llm_pb2.FINISH_REASON_STOP)

    async def synthesize(self, req: tts_pb2.SynthesizeRequest) -> AsyncIterator[tts_pb2.SynthesizeResponse]:
        self.tts_texts.append(req.text)
        await asyncio.sleep(self.t.tts_first_audio_s)
        failure, self.tts_failure = self.tts_failure, None
        if failure is not None:
            raise failure
        fmt = codec.Format.from_proto(req.output_format)
        total = fmt.byte_count(1000 * len(req.text) / self.t.tts_chars_per_s)
        piece = fmt.byte_count(100)
        for offset in range(0, total, piece):
            yield tts_pb2.SynthesizeResponse(audio=b"\x00" * min(piece, total - offset))

    async def close(self) -> None:
        return None


def _samples(ms: int) -> int:
    return ms * MODEL_RATE // 1000
