"""Pipecat baseline for soundloop's conversation benchmark (issue #3).

Runs each scenario through a stock Pipecat pipeline on the same local models
soundloop uses and records, per bot audio frame, when it reached the caller:

    scenario audio, 20 ms frames at real-time pace
      -> Silero VAD + Smart Turn v3 (Pipecat's default user-turn strategies)
      -> WhisperSTTService (faster-whisper, local model dir, cpu, int8)
      -> LLMContextAggregatorPair -> OpenAILLMService (the caller's llama_cpp.server)
      -> PiperTTSService (in-process, Piper joe in both profiles)
      -> an output transport that plays audio at real-time pace and notes times

How it differs from soundloop's pipeline: one in-process asyncio pipeline per
call instead of gRPC stages; Whisper runs once per VAD segment after the user
stops (no speculative recognition); end of turn is Smart Turn v3 on the audio
(no decider, no end-of-turn LM); every VAD onset while the bot talks is an
interruption (Pipecat's default), so a backchannel stops the reply too; the
light profile speaks with Piper, not espeak-ng/flite.

Two departures from a copy-paste Pipecat bot, both forced and explained where
they are made: the LLM service does not send role "developer" (llama_cpp.server
rejects it), and calls run the pipeline at 16 kHz in (WhisperSTTService does not
resample, so the 8 kHz setting of Twilio examples yields no transcripts).

Run it with .venv-pipecat/bin/python (see pipecat_env.sh); it never imports
soundloop. The caller starts the llama_cpp.server behind --llm-url.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# Nothing may come from a model hub: fail loudly instead of trying. Set before
# faster-whisper (huggingface_hub) is imported, which reads it at import time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
from loguru import logger
from pipecat.audio.utils import create_stream_resampler, pcm_to_ulaw, ulaw_to_pcm
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    ErrorFrame,
    Frame,
    InputAudioRawFrame,
    InterruptionFrame,
    LLMMessagesAppendFrame,
    MetricsFrame,
    OutputAudioRawFrame,
    TranscriptionFrame,
    TTSTextFrame,
)
from pipecat.metrics.metrics import ProcessingMetricsData, TTFBMetricsData
from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.openai.llm import OpenAILLMService
from pipecat.services.piper.tts import PiperTTSService
from pipecat.services.whisper.stt import WhisperSTTService
from pipecat.transports.base_input import BaseInputTransport
from pipecat.transports.base_output import BaseOutputTransport
from pipecat.transports.base_transport import TransportParams
from pipecat.workers.runner import WorkerRunner

MODELS = Path(__file__).resolve().parents[2] / "models"
WHISPER_DIR = {"light": "whisper-tiny.en", "default": "whisper-base"}
PIPER_VOICE = "en_US-joe-medium"
# soundloop's default session instructions (GatewaySettings.default_instructions), word for word.
DEFAULT_INSTRUCTIONS = (
    "You are a helpful voice assistant on a phone call. Answer in one or two short spoken "
    "sentences, without lists or markdown.")
SCENARIO_RATE = 16000
FRAME_S = 0.02
# soundloop's LLM settings, so both systems ask the model for the same thing.
MAX_TOKENS, TEMPERATURE = 160, 0.3


@dataclass
class Timeline:
    """What the caller saw, in seconds since the first caller frame (t0)."""

    t0: float = 0.0
    turns: list[dict] = field(default_factory=list)
    open_turn: dict | None = None
    transcripts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    metrics: list[tuple[float, str, float]] = field(default_factory=list)  # (t, kind, s)

    def now(self) -> float:
        return time.monotonic() - self.t0

    @property
    def first_audio_s(self) -> float | None:
        return self.turns[0]["first_audio_s"] if self.turns else None

    @property
    def turns_ended(self) -> int:
        return len(self.turns) - (self.open_turn is not None)

    def bot_started(self) -> None:
        if self.open_turn is None:
            self.open_turn = {"first_audio_s": None, "last_audio_s": None, "audio_s": 0.0,
                              "text": "", "interrupted": False}
            self.turns.append(self.open_turn)

    def bot_audio(self, seconds: float) -> None:
        # A frame already being played when an interruption lands finishes after
        # BotStoppedSpeaking; the caller still hears it, as the end of that turn.
        turn = self.open_turn or (self.turns[-1] if self.turns else None)
        if turn is None:
            self.bot_started()
            turn = self.open_turn
        t = self.now()
        if turn["first_audio_s"] is None:
            turn["first_audio_s"] = t
        turn["last_audio_s"] = t
        turn["audio_s"] += seconds

    def bot_text(self, text: str) -> None:
        if self.open_turn is not None:
            self.open_turn["text"] = f"{self.open_turn['text']} {text}".strip()

    def interrupted(self) -> None:
        if self.open_turn is not None:
            self.open_turn["interrupted"] = True

    def bot_stopped(self) -> None:
        self.open_turn = None

    def stages(self) -> list[dict]:
        """Per turn, the last STT/LLM/TTS metric reported before its first audio."""
        out, after = [], -1.0
        for turn in self.turns:
            first = turn["first_audio_s"] if turn["first_audio_s"] is not None else 1e9
            stage = {"stt_s": None, "llm_ttfb_s": None, "tts_ttfb_s": None}
            for t, kind, value in self.metrics:
                if after < t <= first:
                    stage[kind] = value
            out.append(stage)
            after = first
        return out


class ScenarioInput(BaseInputTransport):
    """Input transport the feeder pushes caller frames into."""

    def __init__(self, params: TransportParams, ready: asyncio.Event):
        super().__init__(params)
        self._ready = ready

    async def start(self, frame):
        await super().start(frame)
        await self.set_transport_ready(frame)
        self._ready.set()


class ScenarioOutput(BaseOutputTransport):
    """Output transport that plays bot audio at real-time pace, like a sound card.

    Pacing matters: without it Pipecat would hand over a whole reply at once and
    an interruption could not cut anything short.
    """

    def __init__(self, params: TransportParams, timeline: Timeline, metric_kinds: dict):
        super().__init__(params)
        self._timeline, self._metric_kinds = timeline, metric_kinds
        self._next_play = 0.0

    async def start(self, frame):
        await super().start(frame)
        await self.set_transport_ready(frame)

    async def write_audio_frame(self, frame: OutputAudioRawFrame) -> bool:
        # Block until the previous frame has played, then note this one's start.
        seconds = len(frame.audio) / (2 * frame.sample_rate * frame.num_channels)
        now = time.monotonic()
        start = max(self._next_play, now)
        await asyncio.sleep(start - now)
        self._timeline.bot_audio(seconds)
        self._next_play = start + seconds
        return True

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        if isinstance(frame, InterruptionFrame):
            self._timeline.interrupted()
        elif isinstance(frame, MetricsFrame):
            # Noted here, not in an observer: metrics are system frames and get
            # here before the audio they precede, so they sort into the right turn.
            for item in frame.data:
                kind = self._metric_kinds.get((item.processor, type(item)))
                if kind and item.value > 0:
                    self._timeline.metrics.append((self._timeline.now(), kind, item.value))
        await super().process_frame(frame, direction)

    async def push_frame(self, frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM):
        # The media sender pushes these from here in playback order, so the text
        # is what was played before any interruption.
        if direction == FrameDirection.DOWNSTREAM:
            if isinstance(frame, BotStartedSpeakingFrame):
                self._timeline.bot_started()
            elif isinstance(frame, BotStoppedSpeakingFrame):
                self._timeline.bot_stopped()
            elif isinstance(frame, TTSTextFrame):
                self._timeline.bot_text(frame.text)
        await super().push_frame(frame, direction)


class TranscriptRecorder(BaseObserver):
    """Collects final transcripts and pipeline errors (each frame once: an
    observer sees a frame at every hop)."""

    def __init__(self, timeline: Timeline):
        super().__init__()
        self._timeline, self._seen = timeline, set()

    async def on_push_frame(self, data: FramePushed):
        frame = data.frame
        if not isinstance(frame, (TranscriptionFrame, ErrorFrame)) or frame.id in self._seen:
            return
        self._seen.add(frame.id)
        if isinstance(frame, TranscriptionFrame):
            self._timeline.transcripts.append(frame.text.strip())
        else:  # a service failed (e.g. the LLM server refused a request)
            self._timeline.errors.append(frame.error)


class LlamaCppLLMService(OpenAILLMService):
    """OpenAILLMService for llama_cpp.server.

    Pipecat sends some notes (e.g. after an interruption nobody could transcribe)
    as role "developer"; llama_cpp.server 0.3 answers those requests with HTTP
    500 ("Input should be 'system'"). Pipecat's own OpenAI-compatible services for
    such servers (OLLamaLLMService, ...) turn them into user messages; so do we.
    """

    supports_developer_role = False


def load_scenario(path: Path) -> tuple[np.ndarray, np.ndarray, dict]:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        return data["audio"].astype(np.float32), data["overlay"].astype(np.float32), meta


async def to_pcm(audio: np.ndarray, telephony: bool) -> bytes:
    """16 kHz float -> PCM16 at the pipeline rate, through 8 kHz mu-law for calls.

    Calls take the path of Pipecat's TwilioFrameSerializer: the network carries
    8 kHz G.711 and the serializer resamples it to the pipeline's input rate.
    That rate stays 16 kHz: WhisperSTTService hands its buffer to faster-whisper
    as 16 kHz without resampling, so audio_in_sample_rate=8000 gives no transcripts.
    """
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
    if not telephony or not pcm:
        return pcm
    ulaw = await pcm_to_ulaw(pcm, SCENARIO_RATE, 8000, create_stream_resampler())
    return await ulaw_to_pcm(ulaw, 8000, SCENARIO_RATE, create_stream_resampler())


def build_worker(profile: str, llm_url: str, meta: dict, timeline: Timeline, ready: asyncio.Event):
    stt = WhisperSTTService(
        device="cpu", compute_type="int8",
        settings=WhisperSTTService.Settings(model=str(MODELS / WHISPER_DIR[profile])),
    )
    llm = LlamaCppLLMService(
        base_url=llm_url, api_key="local",
        settings=LlamaCppLLMService.Settings(
            model="local", max_tokens=MAX_TOKENS, temperature=TEMPERATURE,
            system_instruction=meta.get("instructions") or DEFAULT_INSTRUCTIONS),
    )
    tts = PiperTTSService(download_dir=MODELS / "piper-joe",
                          settings=PiperTTSService.Settings(voice=PIPER_VOICE))
    context = LLMContext()
    # No user_turn_strategies: Pipecat's defaults (VAD start, Smart Turn v3 stop).
    aggregators = LLMContextAggregatorPair(
        context, user_params=LLMUserAggregatorParams(vad_analyzer=SileroVADAnalyzer()))
    transport_in = ScenarioInput(TransportParams(audio_in_enabled=True), ready)
    metric_kinds = {(stt.name, ProcessingMetricsData): "stt_s",
                    (llm.name, TTFBMetricsData): "llm_ttfb_s",
                    (tts.name, TTFBMetricsData): "tts_ttfb_s"}
    transport_out = ScenarioOutput(TransportParams(audio_out_enabled=True), timeline, metric_kinds)
    pipeline = Pipeline([transport_in, stt, aggregators.user(), llm, tts, transport_out,
                         aggregators.assistant()])
    worker = PipelineWorker(
        pipeline,
        # Calls send the reply back as 8 kHz, like Pipecat's Twilio examples.
        params=PipelineParams(audio_in_sample_rate=SCENARIO_RATE,
                              audio_out_sample_rate=8000 if meta.get("telephony") else SCENARIO_RATE,
                              enable_metrics=True),
        observers=[TranscriptRecorder(timeline)],
        enable_rtvi=False, idle_timeout_secs=None,
    )
    return worker, transport_in


def hang_up_due(timeline: Timeline, meta: dict, overlay_at: float | None) -> bool:
    """The caller hangs up as in soundloop's runs: `linger_s` after the first audio of the
    `stop_after_replies`-th reply, or `hang_up_after_overlay_s` after the overlay started."""
    now, k = timeline.now(), meta.get("stop_after_replies")
    firsts = [turn["first_audio_s"] for turn in timeline.turns if turn["first_audio_s"] is not None]
    if k and len(firsts) >= k and now >= firsts[k - 1] + meta.get("linger_s", 0.5):
        return True
    after_overlay = meta.get("hang_up_after_overlay_s")
    return after_overlay is not None and overlay_at is not None and now >= overlay_at + after_overlay


async def feed(worker, transport_in, timeline, audio, overlay, meta) -> float | None:
    """Pushes the caller's side at real-time pace; returns when the overlay started."""
    step = int(SCENARIO_RATE * FRAME_S) * 2  # bytes of PCM16 per frame
    speech = await to_pcm(audio, meta.get("telephony"))
    extra = await to_pcm(overlay, meta.get("telephony"))
    silence = bytes(step)
    texts = sorted((float(t), s) for t, s in meta.get("texts") or [])
    stop_after = meta.get("stop_after_turns")
    audio_end_s = len(speech) / (2 * SCENARIO_RATE)
    overlay_at, overlay_pos, n = None, 0, 0
    timeline.t0 = time.monotonic()
    while True:
        t = n * FRAME_S
        if t >= audio_end_s:
            overlay_busy = overlay_at is not None and overlay_pos < len(extra)
            if t - audio_end_s >= meta["tail_s"]:
                break
            if stop_after and timeline.turns_ended >= stop_after and not overlay_busy:
                break
            if hang_up_due(timeline, meta, overlay_at):
                break
        while texts and texts[0][0] <= t:
            await worker.queue_frame(LLMMessagesAppendFrame(
                messages=[{"role": "user", "content": texts.pop(0)[1]}], run_llm=True))
        if n * step < len(speech):
            chunk = speech[n * step:(n + 1) * step]
        elif extra and overlay_pos < len(extra) and timeline.first_audio_s is not None and (
                timeline.now() >= timeline.first_audio_s + meta["overlay_delay_s"]):
            if overlay_at is None:
                overlay_at = timeline.now()
            chunk, overlay_pos = extra[overlay_pos:overlay_pos + step], overlay_pos + step
        else:
            chunk = silence
        await transport_in.push_audio_frame(InputAudioRawFrame(
            audio=chunk.ljust(step, b"\0"), sample_rate=SCENARIO_RATE, num_channels=1))
        n += 1
        await asyncio.sleep(max(0.0, timeline.t0 + n * FRAME_S - time.monotonic()))
    return overlay_at


async def run_scenario(path: Path, profile: str, llm_url: str) -> dict:
    audio, overlay, meta = load_scenario(path)
    timeline, ready = Timeline(), asyncio.Event()
    outcome = {"id": meta["id"], "error": None, "overlay_at": None, "transcripts": [],
               "turns": [], "stages": []}
    try:
        worker, transport_in = build_worker(profile, llm_url, meta, timeline, ready)
        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(worker)
        running = asyncio.create_task(runner.run())
        await asyncio.wait_for(ready.wait(), timeout=60)
        outcome["overlay_at"] = await feed(worker, transport_in, timeline, audio, overlay, meta)
        outcome["call_s"] = timeline.now()
        await worker.cancel()
        await asyncio.wait_for(running, timeout=30)
    except Exception as e:  # one broken scenario must not sink the rest of the run
        outcome["error"] = f"{type(e).__name__}: {e}"
    if timeline.errors and not outcome["error"]:
        outcome["error"] = "; ".join(timeline.errors)
    outcome.update(transcripts=timeline.transcripts, turns=timeline.turns,
                   stages=timeline.stages())
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--profile", choices=sorted(WHISPER_DIR), default="default")
    parser.add_argument("--llm-url", required=True)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()

    logger.remove()
    logger.add(sys.stderr, level=os.environ.get("PIPECAT_LOG_LEVEL", "WARNING"))
    logging.basicConfig(level=logging.WARNING)

    paths = sorted(args.scenarios.glob("*.npz"))
    if args.only:
        paths = [p for p in paths if p.stem in set(args.only)]
    outcomes = []
    for path in paths:
        outcome = asyncio.run(run_scenario(path, args.profile, args.llm_url))
        print(json.dumps({k: outcome[k] for k in ("id", "error", "transcripts")}), file=sys.stderr)
        outcomes.append(outcome)
    result = {
        "system": "pipecat",
        "pipecat_version": importlib.metadata.version("pipecat-ai"),
        "turn_detection": "smart-turn-v3",
        "tts": "piper joe",
        "outcomes": outcomes,
    }
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
