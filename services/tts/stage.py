"""The TTS stage: one clause of text in, its speech out as a stream of audio pieces.

Engines block (an onnxruntime run, a pipe read), so each chunk is pulled in a
worker thread and the event loop only forwards pieces. When the consumer stops
(the caller barged in, the gRPC call was cancelled) the generator is closed and
the synthesis is cancelled: subprocess engines are killed at once, Piper stops
after the sentence it is computing.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from concurrent.futures import Future, ThreadPoolExecutor

from services.tts.audio_pieces import PIECE_MS, PieceEncoder
from services.tts.engine import SpeechEngine, Synthesis
from services.tts.speech_text import speakable
from services.tts.voice_catalog import VoiceCatalog
from soundloop import telemetry
from soundloop.audio import codec
from soundloop.errors import InvalidRequest
from soundloop.settings import Settings
from soundloop.tts.v1 import tts_pb2

log = logging.getLogger(__name__)

# The gateway sends clauses; a page of text in one call would delay its first audio
# by seconds and hold a worker for minutes.
MAX_TEXT_CHARS = 2000
# Threads waiting on engines (pipe reads, Piper's lock): one per call in flight.
WORKERS = 16
WARM_UP_TEXT = "Sure, I can help with that."


@dataclasses.dataclass(frozen=True)
class SpeechRequest:
    text: str  # normalised for speech; may be empty when the text had nothing to say
    engine: SpeechEngine
    voice: str
    fmt: codec.Format


class ClauseAudio:
    """One synthesis pulled to its end as wire pieces; `pull` blocks (run it in a worker thread)."""

    def __init__(self, synthesis: Synthesis, fmt: codec.Format, piece_ms: int = PIECE_MS):
        self._synthesis = synthesis
        self._fmt = fmt
        self._piece_ms = piece_ms
        self._encoder: PieceEncoder | None = None
        self._done = False

    def pull(self) -> list[bytes] | None:
        """The pieces of the next engine chunk (possibly none), or None at the end."""
        if self._done:
            return None
        chunk = next(self._synthesis, None)
        if chunk is None:
            self._done = True
            return self._encoder.finish() if self._encoder else []
        if self._encoder is None:  # the engine's rate is known once it has produced audio
            self._encoder = PieceEncoder(self._synthesis.sample_rate, self._fmt, self._piece_ms)
        return self._encoder.push(chunk)


class TtsStage:
    def __init__(self, catalog: VoiceCatalog, piece_ms: int = PIECE_MS, workers: int = WORKERS):
        self.catalog = catalog
        self._piece_ms = piece_ms
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="tts")

    @classmethod
    def from_settings(cls, settings: Settings, warm_up: bool = True) -> TtsStage:
        stage = cls(VoiceCatalog.from_settings(settings.resolved().tts))
        if warm_up:
            stage.warm_up()
        return stage

    def warm_up(self) -> None:
        """Synthesizes a phrase with the default voice: the first reply must not pay for lazy set-up."""
        engine, voice = self.catalog.default
        for _ in engine.synthesize(WARM_UP_TEXT, voice):
            pass

    @property
    def voices(self) -> list[str]:
        return self.catalog.voices

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def parse(self, req: tts_pb2.SynthesizeRequest) -> SpeechRequest:
        """Checks a request; raises InvalidRequest or codec.AudioFormatError saying what is wrong."""
        if not req.text.strip():
            raise InvalidRequest("text is empty")
        if len(req.text) > MAX_TEXT_CHARS:
            raise InvalidRequest(f"text has {len(req.text)} characters; at most {MAX_TEXT_CHARS} per call "
                                 "(send one clause per call)")
        if not req.HasField("output_format"):
            raise codec.AudioFormatError("output_format is required")
        fmt = codec.validate_format(codec.Format.from_proto(req.output_format))
        engine, voice = self.catalog.resolve(req.voice)
        return SpeechRequest(speakable(req.text), engine, voice, fmt)

    async def synthesize(self, req: tts_pb2.SynthesizeRequest) -> AsyncIterator[tts_pb2.SynthesizeResponse]:
        """Streams the speech of `req.text` in `req.output_format`, in pieces of `piece_ms`."""
        request = self.parse(req)
        if not request.text:
            log.debug("turn %s: nothing speakable in %d characters", req.turn_id, len(req.text))
            return
        log.debug("turn %s: %d characters with %s:%s", req.turn_id, len(request.text),
                  request.engine.name, request.voice)
        span = telemetry.stage_span(telemetry.TTS_SYNTHESIZE, "tts", **{
            telemetry.MODEL: f"{request.engine.name}:{request.voice}", telemetry.TTS_CHARACTERS: len(request.text)})
        started, samples = time.perf_counter(), 0
        with telemetry.ending(span, "tts", "synthesize"):
            synthesis = await self._start(request)
            audio = ClauseAudio(synthesis, request.fmt, self._piece_ms)
            loop = asyncio.get_running_loop()
            try:
                while (pieces := await loop.run_in_executor(self._executor, audio.pull)) is not None:
                    for piece in pieces:
                        if not samples:
                            span.set_attribute(telemetry.TTS_FIRST_AUDIO_MS,
                                               round((time.perf_counter() - started) * 1000, 1))
                        samples += len(piece) // request.fmt.bytes_per_sample
                        yield tts_pb2.SynthesizeResponse(audio=piece)
            finally:
                # Runs on completion, on error, and when the consumer closes or cancels us.
                synthesis.cancel()
                span.set_attribute(telemetry.AUDIO_SECONDS, round(samples / request.fmt.sample_rate_hz, 3))

    async def _start(self, request: SpeechRequest) -> Synthesis:
        started = self._executor.submit(request.engine.synthesize, request.text, request.voice)
        try:
            return await asyncio.wrap_future(started)
        except asyncio.CancelledError:
            # Cancelled while the engine was starting: stop what it starts.
            started.add_done_callback(_cancel_started)
            raise


def _cancel_started(started: Future) -> None:
    if not started.cancelled() and started.exception() is None:
        started.result().cancel()
