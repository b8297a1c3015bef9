"""Stage calls that ride out a stage restarting, with a deadline on every call that must not hang.

AnalyzeChunk and Decide come ten times a second and are stateless per request (the stream
state travels with it). So when a stage is unreachable, or an attempt gets no answer within
`stage_attempt_timeout_s`, the same request goes again (to another replica under Serve, to the
restarted process in process mode) until `stage_outage_s` has passed; only then does the call
end UNAVAILABLE. Meanwhile the caller's audio queues in the session's bounded inbox and is worked
off once the stage answers: nothing the caller sent is lost.

Recognition of an utterance gets one attempt with a deadline (`recognition_timeout_s`): a new one
starts at the next end of speech anyway, and the caller is told of a failure. Streams (LLM, TTS)
and offline clips pass through: their length is the reply's or the clip's.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from soundloop.decider.v1 import decider_pb2
from soundloop.encoder.v1 import encoder_pb2
from soundloop.errors import Unavailable
from soundloop.llm.v1 import llm_pb2
from soundloop.settings import GatewaySettings
from soundloop.tts.v1 import tts_pb2

from .stage_clients import StageClients

log = logging.getLogger(__name__)

T = TypeVar("T")
FIRST_BACKOFF_S, MAX_BACKOFF_S = 0.1, 1.0


class RetryingStages:
    """Wraps either transport's StageClients (gRPC or Serve handles) with the policy above."""

    def __init__(self, inner: StageClients, settings: GatewaySettings):
        self._inner = inner
        self._attempt_s = settings.stage_attempt_timeout_s
        self._outage_s = settings.stage_outage_s
        self._recognition_s = settings.recognition_timeout_s

    async def _attempt(self, stage: str, method: str, call: Callable[[], Awaitable[T]], timeout_s: float) -> T:
        try:
            return await asyncio.wait_for(call(), timeout_s)  # cancels the remote call on expiry
        except TimeoutError:
            raise Unavailable(f"{method} got no answer within {timeout_s:.1f} s", stage=stage) from None

    async def _retried(self, stage: str, method: str, call: Callable[[], Awaitable[T]]) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._outage_s
        backoff, failures = FIRST_BACKOFF_S, 0
        while True:
            try:
                result = await self._attempt(stage, method, call, min(self._attempt_s, deadline - loop.time()))
            except Unavailable as err:
                failures += 1
                if loop.time() + backoff >= deadline:
                    raise Unavailable(f"{err}; still failing after {self._outage_s:.0f} s", stage=stage) from err
                if failures == 1:
                    log.warning("%s %s failed (%s): trying again for up to %.0f s", stage, method, err, self._outage_s)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            if failures:
                log.info("%s %s answers again after %d failed attempts", stage, method, failures)
            return result

    async def analyze_chunk(self, req: encoder_pb2.AnalyzeChunkRequest) -> encoder_pb2.AnalyzeChunkResponse:
        return await self._retried("encoder", "AnalyzeChunk", lambda: self._inner.analyze_chunk(req))

    async def decide(self, req: decider_pb2.DecideRequest) -> decider_pb2.DecideResponse:
        return await self._retried("decider", "Decide", lambda: self._inner.decide(req))

    async def transcribe_utterance(
            self, req: encoder_pb2.TranscribeUtteranceRequest) -> encoder_pb2.TranscribeUtteranceResponse:
        return await self._attempt("encoder", "TranscribeUtterance", lambda: self._inner.transcribe_utterance(req),
                                   self._recognition_s)

    async def transcribe_clip(self, req: encoder_pb2.TranscribeClipRequest) -> encoder_pb2.TranscribeClipResponse:
        return await self._inner.transcribe_clip(req)

    def generate(self, req: llm_pb2.GenerateRequest) -> AsyncIterator[llm_pb2.GenerateResponse]:
        return self._inner.generate(req)

    def synthesize(self, req: tts_pb2.SynthesizeRequest) -> AsyncIterator[tts_pb2.SynthesizeResponse]:
        return self._inner.synthesize(req)

    async def close(self) -> None:
        await self._inner.close()
