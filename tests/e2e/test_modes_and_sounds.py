"""Response modes and sound reactions through the public API, light profile, real models: the mode and
the sound policy decide what is answered, whatever the LLM would have said."""
from __future__ import annotations

import numpy as np
import pytest

from soundloop.client import CallerScript, converse
from soundloop.v1 import audio_pb2, interaction_pb2 as pb
from tests.support.audio import RATE, join, silence, sound, speak

pytestmark = pytest.mark.e2e

PCM16K = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)


async def test_spoken_transcribe_only_gets_transcripts_and_no_reply(gateway):
    audio = join(silence(0.5), speak("Just transcribe from now on."), silence(1.5),
                 speak("The birch canoe slid on the smooth planks."), silence(0.3))
    record = await converse(gateway, pb.SessionConfig(input_audio=PCM16K), CallerScript(audio, RATE, tail_s=4))

    changed = [e.event.mode_changed for e in record.of("mode_changed")]
    assert [c.response.mode for c in changed] == [pb.RESPONSE_MODE_TRANSCRIBE_ONLY], record.final_transcripts()
    finals = record.final_transcripts()
    # (The light recognizer sometimes hears espeak's "canoe slid" as "can use weight": the mode is tested here.)
    assert len(finals) == 2 and "smooth planks" in finals[1].lower(), finals
    assert record.of("turn_started") == [] and not record.reply_audio


async def test_quiet_until_addressed_by_name(gateway):
    audio = join(silence(0.5), speak("I need eggs, milk and bread."), silence(2.5),
                 speak("Computer, what do I need?"), silence(0.3))
    config = pb.SessionConfig(input_audio=PCM16K, response=pb.ResponsePolicy(
        mode=pb.RESPONSE_MODE_QUIET_UNTIL_ADDRESSED, wake_phrases=["computer"]))
    record = await converse(gateway, config, CallerScript(audio, RATE, tail_s=10, stop_after_turns=1))

    started = [e.event.turn_started for e in record.of("turn_started")]
    assert len(started) == 1 and "computer" in started[0].prompt.lower(), record.final_transcripts()
    # Nothing was said over the statement: the only reply starts after the name was spoken.
    assert record.of("turn_started")[0].event.audio_offset.ToMilliseconds() / 1000 > 0.5 + 2.0 + 2.5
    assert record.reply_audio
    actions = record.actions()
    assert pb.ACTION_NO_REPLY in actions, actions


STORYTELLER = "You are a storyteller. Answer every question with a long story of at least eight sentences."


async def test_an_alarm_during_a_reply_stops_it_and_is_reacted_to(gateway):
    alarm = sound("alarm-clock-elapsed")
    question = join(silence(0.5), speak("Tell me a story about a dragon."), silence(0.2))
    config = pb.SessionConfig(input_audio=PCM16K, instructions=STORYTELLER,
                              sound_policy=pb.SoundPolicy(urgent_labels=["Alarm clock", "Alarm", "Beep, bleep"]))
    record = await converse(gateway, config, CallerScript(question, RATE, tail_s=12, stop_after_turns=2,
                                                          barge_in=join(alarm, alarm), barge_in_delay_s=1.5))

    started = [e.event.turn_started for e in record.of("turn_started")]
    assert [t.cause for t in started][:2] == [pb.TURN_CAUSE_SPEECH, pb.TURN_CAUSE_SOUND], (
        [(t.cause, t.prompt) for t in started], [e.event.sound_event.label for e in record.of("sound_event")])
    assert [e.event.turn_interrupted.turn_id for e in record.of("turn_interrupted")][:1] == [started[0].turn_id]
    assert "".join(e.event.reply_text.delta for e in record.of("reply_text")
                   if e.event.reply_text.turn_id == started[1].turn_id).strip()


async def test_an_alarm_over_the_callers_question_is_reacted_to_with_the_answer(gateway):
    alarm = sound("alarm-clock-elapsed")
    words = speak("What is the capital of France?")
    bed = np.zeros(max(len(words), len(alarm)), np.float32)
    bed[:len(alarm)] += alarm
    bed[:len(words)] += words
    audio = join(silence(0.5), np.clip(bed, -1, 1), silence(0.3))
    record = await converse(gateway, pb.SessionConfig(input_audio=PCM16K), CallerScript(audio, RATE, tail_s=10))

    started = [e.event.turn_started for e in record.of("turn_started")]
    reacted = [t for t in started if t.cause == pb.TURN_CAUSE_SOUND or t.heard_sound]
    heard = [e.event.sound_event.label for e in record.of("sound_event")]
    assert reacted, ([(t.cause, t.prompt) for t in started], heard)
