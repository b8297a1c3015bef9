"""One reply turn: LLM text -> clauses -> TTS audio -> the caller, cancellable at any point.

The LLM streams text; each clause goes to TTS as soon as it is complete, so the
first audio leaves after the first clause, not the first sentence or the whole
reply. Every clause remembers which reply samples carry it, so a barge-in can
tell exactly which words the caller heard.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from opentelemetry.trace import Span

from soundloop.audio import codec
from soundloop.clauses import ClauseSegmenter, sentences_end
from soundloop.llm.v1 import llm_pb2
from soundloop.tts.v1 import tts_pb2
from soundloop.v1 import audio_pb2

from .clock import Clock
from .playback import ReplyPlayer
from .speculation import SpeculativeGeneration
from .stage_clients import StageClients
from .turn_metrics import TurnClock


@dataclasses.dataclass
class SpokenClause:
    text: str
    start_sample: int
    end_sample: int


def heard_text(clauses: Sequence[SpokenClause], samples_heard: int) -> str:
    """The words carried by the first `samples_heard` samples of a reply."""
    words: list[str] = []
    for clause in clauses:
        if samples_heard <= clause.start_sample:
            break  # not reached, or never voiced (its synthesis failed or was cut before any audio)
        if samples_heard >= clause.end_sample:
            words += clause.text.split()
        elif samples_heard > clause.start_sample:
            clause_words = clause.text.split()
            fraction = (samples_heard - clause.start_sample) / max(1, clause.end_sample - clause.start_sample)
            words += clause_words[:int(len(clause_words) * fraction)]
    return " ".join(words)


@dataclasses.dataclass
class ReplyTimings:
    """Clock marks of one turn, for latency metrics and spans."""
    started: float = 0.0
    first_token: float = 0.0
    first_clause: float = 0.0
    first_audio: float = 0.0
    generated: float = 0.0  # the LLM finished (or was cancelled)


@dataclasses.dataclass(frozen=True)
class ReplyOutput:
    """Where every reply turn of a session goes: the same stages, player, voice and format each time."""
    stages: StageClients
    player: ReplyPlayer
    audio_format: audio_pb2.AudioFormat
    voice: str
    session_id: str
    on_text: Callable[[str, str], Awaitable[None]]  # (turn id, text delta)
    clock: Clock
    # The first clause goes to TTS this long after the first token at the latest (0: when complete).
    first_clause_budget_s: float = 0.0


class SpokenPhrase:
    """A fixed reply (the confirmation of a mode change), streamed as if the LLM had written it."""

    def __init__(self, text: str):
        self.text = text

    async def stream(self) -> AsyncIterator[llm_pb2.GenerateResponse]:
        yield llm_pb2.GenerateResponse(delta=self.text)


class ReplyTurn:
    def __init__(self, turn_id: str, cause: int, prompt: str, messages: Sequence[llm_pb2.ChatMessage],
                 clock: TurnClock, output: ReplyOutput,
                 generation: SpeculativeGeneration | SpokenPhrase | None = None, max_sentences: int = 0,
                 opener: str = ""):
        self.turn_id = turn_id
        self.cause = cause  # TurnCause
        self.prompt = prompt  # what is answered: the caller's words, typed text, or the sound's label
        self.clock = clock
        self._messages = list(messages)
        self._out = output
        # A generation started before the decision, for exactly these messages (services/gateway/speculation.py),
        # or a fixed phrase.
        self.generation = generation
        # The caller asked for at most this many sentences (0: no limit): the reply is cut there, whatever
        # the LLM writes after.
        self.max_sentences = max_sentences
        # Fixed first words, spoken while the LLM starts (a reaction to a sound names it at once).
        self.opener = opener
        self.text = ""
        self.clauses: list[SpokenClause] = []
        self.timings = ReplyTimings()
        self.span: Span | None = None  # services/gateway/turn_tracing.py
        self._queued_samples = 0
        self._task: asyncio.Task | None = None

    def start(self) -> asyncio.Task:
        self.timings.started = self._out.clock()
        self._task = asyncio.create_task(self._run(), name=f"reply-{self.turn_id}")
        return self._task

    @property
    def failure(self) -> BaseException | None:
        """Why the finished turn failed, if it did (a cancelled turn did not fail)."""
        if self._task is None or not self._task.done() or self._task.cancelled():
            return None
        return self._task.exception()

    async def cancel(self) -> None:
        if self._task and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def heard_text(self, samples_heard: int) -> str:
        return heard_text(self.clauses, samples_heard)

    async def _run(self) -> None:
        clauses: asyncio.Queue[str | None] = asyncio.Queue()
        speaker = asyncio.create_task(self._speak(clauses), name=f"tts-{self.turn_id}")
        try:
            await self._generate(clauses)
            await speaker
            await self._out.player.drained(self.turn_id)
        finally:
            if not speaker.done():
                speaker.cancel()
                await asyncio.gather(speaker, return_exceptions=True)

    async def _generate(self, clauses: asyncio.Queue) -> None:
        if self.opener:
            self.text = self.opener
            await self._out.on_text(self.turn_id, self.opener)
            clauses.put_nowait(self.opener)
        if not (self.opener and self.max_sentences == 1):  # (the opener is one sentence)
            await self._stream_generation(clauses, separator=" " if self.opener else "")
        self.timings.generated = self._out.clock()
        clauses.put_nowait(None)

    def _first_clause_due(self, segmenter: ClauseSegmenter) -> bool:
        """The first words have waited their budget: better a short first phrase than more silence."""
        budget = self._out.first_clause_budget_s
        return (bool(budget) and not self.opener and not segmenter.started
                and self._out.clock() - self.timings.first_token >= budget)

    async def _stream_generation(self, clauses: asyncio.Queue, separator: str) -> None:
        segmenter = ClauseSegmenter()
        request = llm_pb2.GenerateRequest(session_id=self._out.session_id, turn_id=self.turn_id,
                                          messages=self._messages)
        chunks = self.generation.stream() if self.generation else self._out.stages.generate(request)
        async with contextlib.aclosing(chunks):  # leaving early (the sentence limit) stops the generation
            async for chunk in chunks:
                delta = chunk.delta.lstrip() if separator else chunk.delta
                if not delta:
                    continue
                if not self.timings.first_token:
                    self.timings.first_token = self._out.clock()
                delta, full = self._within_limit(separator + delta)
                separator = ""
                self.text += delta
                if delta:
                    await self._out.on_text(self.turn_id, delta)
                for clause in segmenter.push(delta):
                    clauses.put_nowait(clause)
                if self._first_clause_due(segmenter) and (clause := segmenter.cut_early()):
                    clauses.put_nowait(clause)
                if full:
                    break
        for clause in segmenter.flush():
            clauses.put_nowait(clause)

    def _within_limit(self, delta: str) -> tuple[str, bool]:
        """The part of `delta` within the sentence limit, and whether the limit is reached."""
        if not self.max_sentences:
            return delta, False
        end = sentences_end(self.text + delta, self.max_sentences)
        if end is None:
            return delta, False
        return delta[:max(0, end - len(self.text))], True

    async def _speak(self, clauses: asyncio.Queue) -> None:
        bytes_per_sample = codec.Format.from_proto(self._out.audio_format).bytes_per_sample
        while (clause := await clauses.get()) is not None:
            if not self.timings.first_clause:
                self.timings.first_clause = self._out.clock()
            spoken = SpokenClause(clause, self._queued_samples, self._queued_samples)
            self.clauses.append(spoken)  # before synthesis: a barge-in may cut it half-way
            request = tts_pb2.SynthesizeRequest(text=clause, voice=self._out.voice,
                                                output_format=self._out.audio_format, turn_id=self.turn_id)
            async for piece in self._out.stages.synthesize(request):
                if not piece.audio:
                    continue
                if not self.timings.first_audio:
                    self.timings.first_audio = self._out.clock()
                self._queued_samples += len(piece.audio) // bytes_per_sample
                self._out.player.enqueue(self.turn_id, piece.audio)
                spoken.end_sample = self._queued_samples
