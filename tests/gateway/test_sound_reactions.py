"""Sounds heard at any moment, through the real Conversation (virtual time, real Redis, scripted stages)."""
from __future__ import annotations

import pytest

from soundloop.v1 import interaction_pb2 as pb

from .call_harness import Call, on_virtual_time
from .scripted_stages import Heard, Said, ScriptedStages, Timings

pytestmark = pytest.mark.unit

STORY = "Once upon a time a dragon lived in a cave, and every morning it flew out to count the clouds. " * 3


def test_a_smoke_alarm_during_a_reply_stops_it_and_is_reacted_to(redis_url):
    stages = ScriptedStages([Said(0.5, 1.5, "Tell me a long story.")], {"Tell me a long story.": 0.95},
                            reply=lambda prompt: "Is everything all right? " * 3 if "sound" in prompt else STORY,
                            sounds=(Heard(4.0, 6.0, "Smoke detector, smoke alarm"),),
                            timings=Timings(llm_first_token_s=1.0))

    async def scenario(store):
        call = await Call.open(store, stages)
        await call.stream(9.0)
        await call.end_of_input()
        story, alarm = [e.event.turn_started for e in call.of("turn_started")]
        (interrupted,) = [e.event.turn_interrupted for e in call.of("turn_interrupted")]
        assert interrupted.turn_id == story.turn_id
        assert (alarm.cause, alarm.prompt) == (pb.TURN_CAUSE_SOUND, "Smoke detector, smoke alarm")
        react = next(e for e in call.of("decision") if e.event.decision.action == pb.ACTION_RESPOND_TO_SOUND)
        assert 4.0 <= react.offset_s <= 4.3  # at once, not after the story
        # The sound is named at once, the LLM adds one sentence (the rest of what it writes is cut).
        assert call.reply_text(alarm.turn_id) == "That sounds like a smoke alarm. Is everything all right?"
        assert stages.tts_texts[stages.tts_texts.index("That sounds like a smoke alarm.") + 1] == \
            "Is everything all right?"
        # Its audio leaves before the LLM's first token could have come (scripted at 1 s).
        audio = next(e for e in call.of("reply_audio") if e.event.reply_audio.turn_id == alarm.turn_id)
        assert audio.at - react.at < stages.t.llm_first_token_s
        events = [e for e in call.of("sound_event") if e.event.sound_event.label == "Smoke detector, smoke alarm"]
        assert events and events[0].event.sound_event.domain == pb.SOUND_DOMAIN_EQUIPMENT

    on_virtual_time(redis_url, scenario)


def test_a_phone_ringing_over_the_callers_words_is_reacted_to_in_the_answer(redis_url):
    stages = ScriptedStages([Said(0.5, 2.0, "What is the capital of France?")],
                            {"What is the capital of France?": 0.95}, reply="Paris. And your phone is ringing.",
                            sounds=(Heard(1.0, 1.8, "Telephone bell ringing"),))

    async def scenario(store):
        call = await Call.open(store, stages)
        await call.stream(5.0)
        await call.end_of_input()
        (started,) = [e.event.turn_started for e in call.of("turn_started")]
        assert (started.cause, started.heard_sound) == (pb.TURN_CAUSE_SPEECH, "Telephone bell ringing")
        # (A reply speculated on the words alone is dropped: the answer's prompt has the sound.)
        assert stages.prompts[-1] == ("What is the capital of France?\n[While the caller spoke, the assistant heard "
                                      "a sound: Telephone bell ringing. Mention it briefly, then answer.]")

    on_virtual_time(redis_url, scenario)


def test_with_a_one_sentence_limit_the_reaction_to_a_sound_is_its_name_alone(redis_url):
    stages = ScriptedStages([], {}, reply="Is everything all right?",
                            sounds=(Heard(1.0, 3.0, "Baby cry, infant cry"),))

    async def scenario(store):
        call = await Call.open(store, stages, response=pb.ResponsePolicy(max_sentences=1))
        await call.stream(5.0)
        await call.end_of_input()
        (started,) = [e.event.turn_started for e in call.of("turn_started")]
        assert started.cause == pb.TURN_CAUSE_SOUND
        assert call.reply_text(started.turn_id) == "That sounds like a baby crying."
        assert stages.prompts == []  # the LLM was not asked

    on_virtual_time(redis_url, scenario)
