"""One reply turn: LLM text -> clauses -> TTS audio -> the caller, cancellable at any point.

The LLM streams text; each clause goes to TTS as soon as it is complete, so the
first audio leaves after the first clause, not the first sentence or the whole
reply. Every clause remembers which reply samples carry it, so a barge-in can
tell exactly which words the caller heard.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable

from soundloop.clauses import ClauseSegmenter
from soundloop.llm.v1 import llm_pb2
from soundloop.tts.v1 import tts_pb2
from soundloop.v1 import audio_pb2

from .playback import ReplyPlayer
from .stage_clients import StageClients

log = logging.getLogger(__name__)


@dataclasses.dataclass
class SpokenClause:
    text: str
    start_sample: int
    end_sample: int


@dataclasses.dataclass
class ReplyTimings:
    """Wall-clock marks of one turn, for latency metrics and spans."""
    started: float = 0.0
    first_token: float = 0.0
    first_clause: float = 0.0
    first_audio: float = 0.0
    generated: float = 0.0  # the LLM finished (or was cancelled)


class ReplyTurn:
    def __init__(self, turn_id: str, messages: list[llm_pb2.ChatMessage], stages: StageClients,
                 player: ReplyPlayer, output_format: audio_pb2.AudioFormat, voice: str, session_id: str,
                 bytes_per_sample: int, on_text: Callable[[str], Awaitable[None]]):
        self.turn_id = turn_id
        self._messages = messages
        self._stages = stages
        self._player = player
        self._format = output_format
        self._voice = voice
        self._session_id = session_id
        self._bytes_per_sample = bytes_per_sample
        self._on_text = on_text
        self.text = ""
        self.clauses: list[SpokenClause] = []
        self.timings = ReplyTimings()
        self._queued_samples = 0
        # Set by the conversation that starts the turn: its TurnClock, cause and prompt.
        self.clock = None
        self.cause = 0
        self.prompt = ""
        self._task: asyncio.Task | None = None

    def start(self) -> asyncio.Task:
        self.timings.started = time.monotonic()
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
        """The words carried by the first `samples_heard` samples of the reply."""
        words: list[str] = []
        for clause in self.clauses:
            if samples_heard >= clause.end_sample:
                words += clause.text.split()
            elif samples_heard > clause.start_sample:
                clause_words = clause.text.split()
                fraction = (samples_heard - clause.start_sample) / max(1, clause.end_sample - clause.start_sample)
                words += clause_words[:int(len(clause_words) * fraction)]
        return " ".join(words)

    async def _run(self) -> None:
        clauses: asyncio.Queue[str | None] = asyncio.Queue()
        speaker = asyncio.create_task(self._speak(clauses), name=f"tts-{self.turn_id}")
        try:
            await self._generate(clauses)
            await speaker
            await self._player.drained(self.turn_id)
        finally:
            if not speaker.done():
                speaker.cancel()
                await asyncio.gather(speaker, return_exceptions=True)

    async def _generate(self, clauses: asyncio.Queue) -> None:
        segmenter = ClauseSegmenter()
        request = llm_pb2.GenerateRequest(session_id=self._session_id, turn_id=self.turn_id,
                                          messages=self._messages)
        async for chunk in self._stages.generate(request):
            if not chunk.delta:
                continue
            if not self.timings.first_token:
                self.timings.first_token = time.monotonic()
            self.text += chunk.delta
            await self._on_text(chunk.delta)
            for clause in segmenter.push(chunk.delta):
                clauses.put_nowait(clause)
        self.timings.generated = time.monotonic()
        for clause in segmenter.flush():
            clauses.put_nowait(clause)
        clauses.put_nowait(None)

    async def _speak(self, clauses: asyncio.Queue) -> None:
        while (clause := await clauses.get()) is not None:
            if not self.timings.first_clause:
                self.timings.first_clause = time.monotonic()
            spoken = SpokenClause(clause, self._queued_samples, self._queued_samples)
            self.clauses.append(spoken)  # before synthesis: a barge-in may cut it half-way
            request = tts_pb2.SynthesizeRequest(text=clause, voice=self._voice, output_format=self._format,
                                                turn_id=self.turn_id)
            async for piece in self._stages.synthesize(request):
                if not piece.audio:
                    continue
                if not self.timings.first_audio:
                    self.timings.first_audio = time.monotonic()
                self._queued_samples += len(piece.audio) // self._bytes_per_sample
                self._player.enqueue(self.turn_id, piece.audio)
                spoken.end_sample = self._queued_samples
