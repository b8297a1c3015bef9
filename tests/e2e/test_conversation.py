"""Spoken conversations through the public API, light profile, real models end to end."""
from __future__ import annotations

import numpy as np
import pytest

from bench import scenarios
from soundloop.client import CallerScript, converse
from soundloop.v1 import audio_pb2, interaction_pb2 as pb
from tests.support.audio import RATE, join, silence, sound, speak

pytestmark = pytest.mark.e2e

PCM16K = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)
MULAW = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_MULAW, sample_rate_hz=8000)


def seconds(audio: np.ndarray) -> float:
    return len(audio) / RATE


def offset_s(event) -> float:
    return event.event.audio_offset.ToMilliseconds() / 1000


async def test_question_with_a_mid_sentence_pause_gets_one_reply_after_it_ends(gateway):
    lead, first, pause, second = silence(0.5), speak("I would like to know"), silence(1.0), \
        speak("what the capital of France is?")
    audio = join(lead, first, pause, second, silence(0.2))
    second_starts = seconds(lead) + seconds(first) + seconds(pause)
    speech_ends = second_starts + seconds(second)

    record = await converse(gateway, pb.SessionConfig(input_audio=PCM16K), CallerScript(audio, RATE))

    finals = record.final_transcripts()
    assert len(finals) == 1, finals
    words = finals[0].lower()
    # Both halves in one transcript (Moonshine tiny may hear "France is" as "Francis" in espeak's voice).
    assert "know" in words and "capital" in words, finals
    responds = [e for e in record.of("decision") if e.event.decision.action == pb.ACTION_RESPOND]
    assert len(responds) == 1
    # Not during the pause: only once the caller had finished the question.
    assert offset_s(responds[0]) >= speech_ends, (offset_s(responds[0]), speech_ends)
    assert responds[0].event.decision.reason
    started = record.of("turn_started")
    assert [e.event.turn_started.cause for e in started] == [pb.TURN_CAUSE_SPEECH]
    assert record.reply_text().strip()
    assert len(record.reply_audio) > 16000  # > 0.5 s of 16 kHz PCM16
    assert len(record.of("turn_completed")) == 1
    sequences = [e.event.sequence for e in record.events]
    assert sequences == list(range(1, len(sequences) + 1))


async def test_telephone_caller_in_8khz_mulaw(gateway):
    audio = join(silence(0.4), speak("Please tell me a joke about cats."), silence(0.2))
    record = await converse(gateway, pb.SessionConfig(input_audio=MULAW), CallerScript(audio, RATE))

    assert record.output_format == MULAW  # replies come back in the caller's encoding
    finals = record.final_transcripts()
    assert finals and "joke" in finals[0].lower(), finals
    assert len(record.reply_audio) > 4000  # > 0.5 s of 8 kHz mu-law (1 byte per sample)


async def test_alarm_sound_gets_a_proactive_reply(gateway):
    alarm = sound("alarm-clock-elapsed")
    audio = join(silence(0.5), alarm, alarm, silence(0.5))
    record = await converse(gateway, pb.SessionConfig(input_audio=PCM16K), CallerScript(audio, RATE, tail_s=10))

    labels = {e.event.sound_event.label for e in record.of("sound_event")}
    assert labels, "no sound events reported"
    actions = record.actions()
    assert pb.ACTION_RESPOND_TO_SOUND in actions, (labels, actions)
    started = record.of("turn_started")
    assert started and started[0].event.turn_started.cause == pb.TURN_CAUSE_SOUND
    assert record.reply_text().strip()


async def test_speech_without_recognizable_words_is_asked_again(gateway):
    # The benchmark's call turn-002: "How many days are in a week?" in 5 dB street noise, a voice
    # the VAD hears and words Moonshine tiny cannot make out (it drops its guess as no speech).
    # Before, the caller was left in silence.
    call = next(s for s in scenarios.build(7) if s.id == "turn-002")
    record = await converse(gateway, pb.SessionConfig(input_audio=PCM16K), CallerScript(call.audio, RATE, tail_s=8))

    assert record.of("speech_started"), "the VAD did not hear the voice"
    if record.final_transcripts():
        pytest.skip(f"the recogniser now makes out words here: {record.final_transcripts()}")
    started = record.of("turn_started")
    assert [e.event.turn_started.cause for e in started] == [pb.TURN_CAUSE_UNCLEAR_SPEECH]
    respond = next(e for e in record.of("decision") if e.event.decision.action == pb.ACTION_RESPOND)
    assert respond.event.decision.reason.startswith("speech not understood"), respond.event.decision.reason
    # Not before max_silence (1.8 s at medium eagerness) after the voice stopped.
    assert offset_s(respond) >= call.speech_end_s + 1.8, (offset_s(respond), call.speech_end_s)
    assert record.reply_text().strip()  # the model asks again, in its own words
    assert len(record.reply_audio) > 16000


async def test_typed_instruction_is_answered(gateway):
    script = CallerScript(silence(0.5), RATE, texts=[(0.2, "Say hello in one short sentence.")])
    record = await converse(gateway, pb.SessionConfig(input_audio=PCM16K), script)

    started = record.of("turn_started")
    assert [e.event.turn_started.cause for e in started] == [pb.TURN_CAUSE_TEXT]
    assert record.reply_text().strip()
