"""EncoderStage: the encoder's three RPCs as async methods over proto messages.

AnalyzeChunk is stateless on the replica: the stream's state comes in with the
request and goes back with the response. Model calls run on worker threads so
the event loop stays free: chunk analysis (~1 ms) on a small pool, live speech
recognition on a single thread, which also queues decodes one at a time, and
offline clips on threads of their own at a lower priority, so a long clip never
queues a caller's recognition behind it.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import threading
import time

import numpy as np

from services.encoder import prosody, resampler, sound_events, stream_state, voice_activity
from services.encoder.errors import InvalidRequest
from services.encoder.recognizers import Recognizers
from soundloop import telemetry
from soundloop.audio import codec
from soundloop.encoder.v1 import encoder_pb2
from soundloop.models import model_path
from soundloop.settings import EncoderSettings, Settings
from soundloop.thread_priority import lower_this_thread

log = logging.getLogger(__name__)

RATE = codec.MODEL_RATE
CLIP_HOP_FRAMES = 48  # 0.48 s between sound windows over a clip
_BOUNDARY_KINDS = {
    voice_activity.BoundaryKind.START: encoder_pb2.BOUNDARY_KIND_SPEECH_START,
    voice_activity.BoundaryKind.END: encoder_pb2.BOUNDARY_KIND_SPEECH_END,
}


class EncoderStage:
    def __init__(self, settings: EncoderSettings, vad: voice_activity.SileroVad,
                 tagger: sound_events.YamnetTagger, recognizers: Recognizers, analysis_threads: int = 2):
        self.settings = settings
        self.vad = vad
        self.tagger = tagger
        self.recognizers = recognizers
        self._hop_frames = sound_events.hop_frames(settings.sound_hop_ms)
        self._analysis = concurrent.futures.ThreadPoolExecutor(analysis_threads, thread_name_prefix="encoder-analysis")
        self._asr = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="encoder-asr")
        # Offline clips get threads of their own at a lower CPU priority: a minutes-long clip queued
        # on the live ASR thread held every caller's recognition behind it (a 60 s clip: ~3 s).
        self._offline = concurrent.futures.ThreadPoolExecutor(
            2, thread_name_prefix="encoder-offline", initializer=_background_priority)

    @classmethod
    def from_settings(cls, settings: Settings, warm_up: bool = True) -> EncoderStage:
        """Loads the models once (ASR engines from the profile's resolved `asr_model` and
        `asr_multilingual_model`)."""
        enc = settings.resolved().encoder
        started = time.perf_counter()
        hysteresis = voice_activity.Hysteresis.from_ms(enc.vad_threshold, enc.vad_start_ms, enc.vad_end_ms)
        stage = cls(
            enc,
            voice_activity.SileroVad(model_path("silero-vad", "silero_vad_16k.onnx"), hysteresis),
            sound_events.YamnetTagger(model_path("yamnet", "model.onnx"), model_path("yamnet", "yamnet_class_map.csv")),
            Recognizers.from_settings(enc))
        if warm_up:
            stage.warm_up()
        log.info("encoder ready in %.1f s (ASR %s)", time.perf_counter() - started, stage.recognizers.names)
        return stage

    def warm_up(self) -> None:
        """One pass through every model, so the first caller does not pay for lazy initialization."""
        noise = (np.random.default_rng(0).standard_normal(RATE) * 0.01).astype(np.float32)
        fmt = codec.Format(codec.PCM16, RATE)
        self._analyze(encoder_pb2.AnalyzeChunkRequest(format=fmt.to_proto(), audio=codec.encode(fmt, noise)))
        self.recognizers.warm_up(noise)

    def close(self) -> None:
        for pool in (self._analysis, self._asr, self._offline):
            pool.shutdown(wait=False, cancel_futures=True)

    async def _run(self, pool: concurrent.futures.Executor, fn, *args):
        # A cancelled call drops work that has not started yet (e.g. a stale speculative decode).
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    # ------------------------------------------------------------------ AnalyzeChunk

    async def analyze_chunk(self, req: encoder_pb2.AnalyzeChunkRequest) -> encoder_pb2.AnalyzeChunkResponse:
        return await self._run(self._analysis, self._analyze, req)

    def _analyze(self, req: encoder_pb2.AnalyzeChunkRequest) -> encoder_pb2.AnalyzeChunkResponse:
        fmt = codec.validate_format(codec.Format.from_proto(req.format))
        if not req.audio:
            raise InvalidRequest("audio is empty: AnalyzeChunk needs at least one sample")
        samples = codec.decode(fmt, req.audio)
        stream = stream_state.unpack(req.stream_state, fmt)
        start = stream.output_samples
        pcm, stream.history = resampler.process(
            resampler.design(fmt.sample_rate_hz), stream.history, stream.input_samples, samples)
        stream.input_samples += samples.size
        end = start + pcm.size
        probabilities: list[float] = []
        boundaries = self.vad.process(stream.vad, pcm, end, probabilities)
        tags = sound_events.advance(self.tagger, stream.sound, pcm, end, self._hop_frames,
                                    self.settings.sound_report_threshold)
        activity = stream.vad.activity
        run_ms = stream.vad.run_ms(end)
        quiet = activity.in_speech and activity.run_frames > 0
        pending_silence_ms = max(0, stream.vad.known_until(end) - activity.run_start) * 1000 // RATE if quiet else 0
        return encoder_pb2.AnalyzeChunkResponse(
            pcm16k=codec.pcm16_bytes(pcm),
            pcm_start_sample=start,
            boundaries=[encoder_pb2.SpeechBoundary(kind=_BOUNDARY_KINDS[b.kind], sample=b.sample) for b in boundaries],
            in_speech=activity.in_speech,
            speech_ms=run_ms if activity.in_speech else 0,
            silence_ms=0 if activity.in_speech else run_ms,
            pending_silence_ms=pending_silence_ms,
            sound_tags=[_tag_proto(t) for t in tags],
            stream_state=stream_state.pack(stream),
            prosody=prosody.chunk_prosody(pcm, probabilities),
        )

    # ------------------------------------------------------------------ TranscribeUtterance

    async def transcribe_utterance(
            self, req: encoder_pb2.TranscribeUtteranceRequest) -> encoder_pb2.TranscribeUtteranceResponse:
        if not req.pcm16k:
            raise InvalidRequest("pcm16k is empty: TranscribeUtterance needs 16 kHz PCM16LE audio")
        fmt = codec.Format(codec.PCM16, RATE)
        codec.check_chunk(fmt, req.pcm16k)
        engine, language = self.recognizers.for_language(req.language)
        samples = codec.decode(fmt, req.pcm16k)
        span = telemetry.stage_span(telemetry.ENCODER_TRANSCRIBE, "encoder", **{
            telemetry.MODEL: engine.name, telemetry.AUDIO_SECONDS: round(samples.size / RATE, 3)})
        cancelled = threading.Event()
        with telemetry.ending(span, "encoder", "transcribe_utterance"):
            try:
                result = await self._run(self._asr, functools.partial(
                    engine.transcribe, samples, language, False, cancelled=cancelled))
            except asyncio.CancelledError:
                # The gateway replaced it with a newer recognition: a decode under way stops at its next
                # step instead of holding the one ASR thread (every session's) for the rest of it.
                cancelled.set()
                raise
        return encoder_pb2.TranscribeUtteranceResponse(
            text=result.text, avg_logprob=result.avg_logprob, no_speech_prob=result.no_speech_prob)

    # ------------------------------------------------------------------ TranscribeClip

    async def transcribe_clip(self, req: encoder_pb2.TranscribeClipRequest) -> encoder_pb2.TranscribeClipResponse:
        fmt = codec.validate_format(codec.Format.from_proto(req.format))
        if not req.audio:
            raise InvalidRequest("audio is empty: TranscribeClip needs a clip to transcribe")
        engine, language = self.recognizers.for_clip(req.language)
        decoded = codec.decode(fmt, req.audio)
        samples = codec.resample(decoded, fmt.sample_rate_hz, RATE)
        span = telemetry.stage_span(telemetry.ENCODER_CLIP, "encoder", **{
            telemetry.MODEL: engine.name, telemetry.AUDIO_SECONDS: round(samples.size / RATE, 3)})
        with telemetry.ending(span, "encoder", "transcribe_clip"):
            transcript, tags = await asyncio.gather(
                self._run(self._offline, functools.partial(engine.transcribe, samples, language, True,
                                                           background=True)),
                self._run(self._offline, sound_events.tag_clip, self.tagger, samples, CLIP_HOP_FRAMES,
                          self.settings.sound_report_threshold))
        duration_ms = round(decoded.size * 1000 / fmt.sample_rate_hz)
        return encoder_pb2.TranscribeClipResponse(
            text=transcript.text,
            # Whisper's timestamps are estimates that can run a few tens of ms past the audio.
            segments=[encoder_pb2.ClipSegment(text=s.text, start_ms=min(s.start_ms, duration_ms),
                                              end_ms=min(s.end_ms, duration_ms)) for s in transcript.segments],
            sound_tags=[_tag_proto(t) for t in tags],
            duration_ms=duration_ms,
        )


OFFLINE_NICE = 10  # CFS weight ~110 against 1024: a live call's work gets ~90 % of a contended core


def _background_priority() -> None:
    """The models' work runs on the calling thread where they use one intra-op thread (Moonshine on the
    light profile); Whisper's own worker threads keep theirs."""
    lower_this_thread(OFFLINE_NICE, "offline recognition")


def _tag_proto(tag: sound_events.Tag) -> encoder_pb2.SoundTag:
    return encoder_pb2.SoundTag(label=tag.label, score=tag.score, start_sample=tag.start_sample,
                                end_sample=tag.end_sample)
