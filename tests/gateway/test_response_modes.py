"""Response modes through the real Conversation (virtual time, real Redis, scripted stages): what the
caller receives when an instruction changes the mode, and that the change survives a resume."""
from __future__ import annotations

import asyncio

import pytest

from soundloop.v1 import interaction_pb2 as pb

from .call_harness import Call, on_virtual_time
from .scripted_stages import Said, ScriptedStages

pytestmark = pytest.mark.unit

FINISHED = 0.95
TRANSCRIBE = "Just transcribe from now on."
QUESTION = "What time is it?"


def stages_for(said: list[Said], reply: str = "It is noon.") -> ScriptedStages:
    return ScriptedStages(said, {s.text: FINISHED for s in said}, reply=reply)


def finals(call: Call) -> list[str]:
    return [e.event.transcript.text for e in call.of("transcript") if e.event.transcript.is_final]


def test_transcribe_only_gives_final_transcripts_and_no_reply(redis_url):
    stages = stages_for([Said(0.5, 1.7, TRANSCRIBE), Said(2.5, 3.5, QUESTION)])

    async def scenario(store):
        call = await Call.open(store, stages)
        await call.stream(6.0)
        await call.end_of_input()
        assert finals(call) == [TRANSCRIBE, QUESTION]
        assert call.of("turn_started") == [] and stages.prompts == []  # the LLM was never asked
        (changed,) = call.of("mode_changed")
        assert changed.event.mode_changed.response.mode == pb.RESPONSE_MODE_TRANSCRIBE_ONLY
        assert changed.event.mode_changed.instruction == TRANSCRIBE
        assert [a for a in call.actions() if a != "KEEP_LISTENING"] == ["CHANGE_MODE", "NO_REPLY"]

    on_virtual_time(redis_url, scenario)


def test_transcribe_only_survives_a_resume_and_is_lifted_by_speech(redis_url):
    stages = stages_for([Said(0.5, 1.7, TRANSCRIBE), Said(2.5, 3.5, QUESTION),
                         Said(4.5, 5.5, "You can talk again."), Said(8.5, 9.5, "What day is it?")])

    async def scenario(store):
        first = await Call.open(store, stages)
        await first.stream(2.2)
        await asyncio.sleep(0.3)
        await first.hang_up()

        second = await Call.open(store, stages, resume_token=first.resume_token)
        await second.stream(10.0)
        await second.end_of_input()
        assert finals(second)[0] == QUESTION
        started = [e.event.turn_started for e in second.of("turn_started")]
        # The confirmation is a fixed phrase, not the LLM's; then the question is answered by the LLM.
        assert [(t.cause, t.prompt) for t in started] == [
            (pb.TURN_CAUSE_INSTRUCTION, "You can talk again."), (pb.TURN_CAUSE_SPEECH, "What day is it?")]
        assert second.reply_text(started[0].turn_id) == "Okay, I'm listening."
        assert stages.prompts == ["What day is it?"]

    on_virtual_time(redis_url, scenario)


def test_quiet_until_addressed_answers_its_name_and_remembers_what_it_heard(redis_url):
    stages = stages_for([Said(0.5, 1.7, "I need eggs and milk."), Said(3.0, 4.2, "Ada, what is on my list?")])

    async def scenario(store):
        call = await Call.open(store, stages, response=pb.ResponsePolicy(
            mode=pb.RESPONSE_MODE_QUIET_UNTIL_ADDRESSED, wake_phrases=["Ada"]))
        await call.stream(6.0)
        await call.end_of_input()
        assert [e.event.turn_started.prompt for e in call.of("turn_started")] == ["Ada, what is on my list?"]
        # Words that got no reply reach the LLM with the question, as one caller message.
        assert stages.prompts == ["I need eggs and milk.\nAda, what is on my list?"]

    on_virtual_time(redis_url, scenario)


def test_a_sentence_limit_cuts_the_reply_and_a_spoken_one_is_confirmed(redis_url):
    stages = stages_for([Said(0.5, 2.0, "Keep your answers to one sentence."), Said(5.0, 6.0, QUESTION)],
                        reply="It is noon. The sun is high. Have a nice day.")

    async def scenario(store):
        call = await Call.open(store, stages)
        await call.stream(9.0)
        await call.end_of_input()
        confirm, answer = [e.event.turn_started.turn_id for e in call.of("turn_started")]
        assert call.reply_text(confirm) == "Okay, I'll keep my answers to one sentence."
        assert call.reply_text(answer) == "It is noon."
        (completed,) = [e.event.turn_completed for e in call.of("turn_completed") if e.event.turn_completed.turn_id
                        == answer]
        assert completed.text == "It is noon."
        assert call.of("mode_changed")[0].event.mode_changed.response.max_sentences == 1

    on_virtual_time(redis_url, scenario)


def test_session_instructions_set_the_starting_mode(redis_url):
    stages = stages_for([Said(0.5, 1.5, QUESTION)])

    async def scenario(store):
        from services.gateway.session_config import normalize_config
        from soundloop.settings import EncoderSettings
        config = normalize_config(pb.SessionConfig(
            input_audio=pb.SessionConfig().input_audio.__class__(encoding=1, sample_rate_hz=16000),
            instructions="Only transcribe what the caller says. Do not reply."), EncoderSettings())
        assert config.response.mode == pb.RESPONSE_MODE_TRANSCRIBE_ONLY
        call = await Call.open(store, stages, response=config.response)
        await call.stream(4.0)
        await call.end_of_input()
        assert finals(call) == [QUESTION] and call.of("turn_started") == []

    on_virtual_time(redis_url, scenario)
