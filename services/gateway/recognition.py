"""Recognition of the open caller turn, run beside the loop and ahead of the decision that needs it.

A recognition starts as soon as the caller goes quiet (before the VAD's hangover
confirms the end of speech), again at the confirmed end if the first did not
reach it, and every `partial_every_s` during long turns. When the decider then
says RESPOND, the transcript is usually ready. Results come back through the
inbox's control lane, so the conversation handles them in order with its chunks.
"""
from __future__ import annotations

import asyncio
import logging

import grpc

from soundloop import errors
from soundloop.audio.codec import MODEL_RATE
from soundloop.encoder.v1 import encoder_pb2

from .caller_turn import COVER_TOLERANCE, CallerTurn
from .clock import Clock
from .inbox import Inbox, RecognitionFailed, Recognized
from .stage_clients import StageClients

log = logging.getLogger(__name__)


class SpeculativeRecognizer:
    def __init__(self, stages: StageClients, caller: CallerTurn, inbox: Inbox, clock: Clock, *, language: str,
                 partial_every_s: float, early_ms: int):
        self._stages = stages
        self._caller = caller
        self._inbox = inbox
        self._clock = clock
        self._language = language
        self._partial_every_s = partial_every_s
        self._early_ms = early_ms
        self._task: asyncio.Task | None = None
        self._wanted = False  # run again with newer audio when the one in flight returns
        self._requested_until = -1  # stream sample the latest request covers
        self._early_run_start = -1  # the quiet run early recognition last started for
        self._last_request = clock()

    @property
    def busy(self) -> bool:
        return self._wanted or (self._task is not None and not self._task.done())

    def after_chunk(self, chunk: encoder_pb2.AnalyzeChunkResponse, ended: list[int]) -> None:
        """Starts what the chunk calls for. `ended`: samples where the open turn's speech ended in it."""
        for sample in ended:
            if not self._reaches(sample):
                self.request(preempt=True)  # speculative: the turn may be over
        self._recognize_early(chunk)
        if (self._partial_every_s and self._caller.in_speech and self._caller.is_open
                and self._clock() - self._last_request > self._partial_every_s):
            self.request()

    def turn_opened(self) -> None:
        self._last_request = self._clock()  # the first partial comes `partial_every_s` into the turn

    def _recognize_early(self, chunk: encoder_pb2.AnalyzeChunkResponse) -> None:
        if not (self._early_ms and self._caller.is_open and chunk.in_speech
                and chunk.pending_silence_ms >= self._early_ms):
            return
        run_start = self._caller.audio.end - chunk.pending_silence_ms * MODEL_RATE // 1000
        if abs(run_start - self._early_run_start) > MODEL_RATE // 100:  # a new quiet run, not the same one again
            self._early_run_start = run_start
            # A partial asked for just as the caller stopped already hears every word before the quiet:
            # preempting it would start the same recognition again, behind the one it cancels (in ~1 of 7
            # turns the partial timer fires within a chunk of the end of speech).
            if not self._reaches(run_start):
                self.request(preempt=True)

    def _reaches(self, sample: int) -> bool:
        """A recognition covering the turn up to `sample` is done or under way."""
        reach = sample - COVER_TOLERANCE
        transcript = self._caller.transcript
        return self._requested_until >= reach and (self.busy or (transcript is not None and transcript.until >= reach))

    def request(self, preempt: bool = False) -> None:
        """Recognizes the open turn so far. `preempt` drops a partial in flight: the
        recognition that can end the turn must not queue behind one that cannot."""
        if self._task and not self._task.done():
            if not preempt:
                self._wanted = True
                return
            self._task.cancel()
        self._wanted = False
        self._last_request = self._clock()
        pcm, until, utterance = self._caller.audio.turn_pcm(), self._caller.audio.end, self._caller.utterance
        if not pcm:
            return
        self._requested_until = until
        self._task = asyncio.create_task(self._recognize(pcm, until, utterance), name="asr")

    def returned(self) -> bool:
        """A result (or failure) came back; True if newer audio is waiting to be recognized."""
        wanted, self._wanted = self._wanted, False
        return wanted

    def cancel(self) -> None:
        if self._task and not self._task.done():
            self._task.cancel()
        self._wanted = False

    async def _recognize(self, pcm: bytes, until: int, utterance: int) -> None:
        started = self._clock()
        try:
            result = await self._stages.transcribe_utterance(encoder_pb2.TranscribeUtteranceRequest(
                pcm16k=pcm, language=self._language, is_final=False))
        except Exception as err:  # the conversation tells the caller; the next end of speech tries again
            status = errors.status_of(err, "gateway")
            if status.code == grpc.StatusCode.INTERNAL:
                log.error("recognition failed", exc_info=err)
            else:
                log.warning("recognition failed: %s", status.message)
            self._inbox.put_control(RecognitionFailed(utterance, status.code.name, status.message))
            return
        self._inbox.put_control(Recognized(result.text.strip(), until, utterance, (started, self._clock())))
