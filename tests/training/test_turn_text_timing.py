"""The extractor's `gateway` text timing is the gateway's: it recognizes the audio the gateway asks to
recognize for each quiet run, and shows the text only once the VAD has confirmed the caller is quiet.
(How many chunks later it arrives, features.GATEWAY_DELAY_CHUNKS, follows the recognizer's measured
latency; it is not checked here.)

Both sides run on the same corpus samples with the real Silero VAD: the training extractor with a
recorder in place of the recognizer, and the gateway's CallerTurn and SpeculativeRecognizer fed by
the real encoder stage, with a recorder in place of the encoder's recognition call.
"""
from __future__ import annotations

import asyncio

import numpy as np
import pytest

from services.encoder.stage import EncoderStage
from services.gateway.caller_turn import CallerTurn, Transcript
from services.gateway.inbox import Inbox, Recognized
from services.gateway.recognition import SpeculativeRecognizer
from soundloop.audio import codec
from soundloop.encoder.v1 import encoder_pb2
from soundloop.settings import load_settings
from training.turn_taking import corpus, features

PCM16 = codec.Format(codec.PCM16, corpus.RATE)
SETTINGS = load_settings(profile="light")


class _Heard:
    text = "Can I change my delivery address?"


class RecordingRecognizer:
    """Stands in for Moonshine: remembers the audio it was given, in samples, and answers a fixed text."""

    def __init__(self) -> None:
        self.lengths: list[int] = []

    def transcribe(self, samples: np.ndarray, language: str, timestamps: bool) -> _Heard:
        self.lengths.append(len(samples))
        return _Heard()


class RecordingStages:
    """The gateway's stage clients, as far as recognition goes: records each request's audio length."""

    def __init__(self) -> None:
        self.lengths: list[int] = []

    async def transcribe_utterance(self, req: encoder_pb2.TranscribeUtteranceRequest):
        self.lengths.append(len(req.pcm16k) // 2)
        return encoder_pb2.TranscribeUtteranceResponse(text=_Heard.text)


def _training_requests(extractor: features.Extractor, sample: corpus.Sample) -> tuple[list[int], np.ndarray]:
    recorder = RecordingRecognizer()
    extractor.asr = recorder
    rows = extractor.sample(sample)
    return recorder.lengths, rows


async def _gateway_requests(stage: EncoderStage, sample: corpus.Sample) -> list[int]:
    """What the gateway asks the encoder to recognize, per 100 ms chunk of the sample (no partials)."""
    stages, caller, inbox = RecordingStages(), CallerTurn(), Inbox(64)
    recognizer = SpeculativeRecognizer(stages, caller, inbox, lambda: 0.0, language="en", partial_every_s=0,
                                       early_ms=SETTINGS.gateway.early_recognition_ms)
    state = b""
    data = codec.encode(PCM16, sample.audio)
    step = corpus.CHUNK * 2
    for i in range(0, len(data), step):
        chunk = stage._analyze(encoder_pb2.AnalyzeChunkRequest(format=PCM16.to_proto(), audio=data[i:i + step],
                                                               stream_state=state))
        state = chunk.stream_state
        opened = caller.utterance
        ended = [b.sample for b in caller.listen(chunk) if b.kind == encoder_pb2.BOUNDARY_KIND_SPEECH_END]
        if caller.utterance != opened:
            recognizer.turn_opened()
        recognizer.after_chunk(chunk, ended)
        await asyncio.sleep(0.01)  # the recognition task answers at once
        while not inbox.empty:
            result = await inbox.get()
            assert isinstance(result, Recognized)
            recognizer.returned()
            caller.recognized(Transcript(result.text, result.until), result.utterance)
    return stages.lengths


@pytest.mark.integration
def test_gateway_timing_recognizes_what_the_gateway_asks_for_and_shows_it_once_the_caller_is_quiet():
    samples = [s for s in corpus.build(seed=1, n_turns=600, n_over_reply=120, limit=6) if not s.reply_active]
    assert len(samples) >= 3
    extractor = features.Extractor(text_timing="gateway")
    stage = EncoderStage.from_settings(SETTINGS, warm_up=False)
    try:
        for sample in samples:
            trained_on, rows = _training_requests(extractor, sample)
            served = asyncio.run(_gateway_requests(stage, sample))
            assert trained_on, sample.text
            # Same audio: the turn with the pre-roll the gateway keeps before its onset, up to the chunk that asked.
            assert trained_on == served, (sample.kind, sample.text)
            # The text feature appears only on quiet chunks, never in speech or the VAD's pending silence.
            has_text = rows[:, features.turn_model.turn_features.HAS_TEXT] > 0
            in_speech = rows[:, features.turn_model.turn_features.IN_SPEECH] > 0
            assert has_text.any() and not (has_text & in_speech).any()
    finally:
        stage.close()
