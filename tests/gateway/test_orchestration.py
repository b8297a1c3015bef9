"""The conversation loop on virtual time: the real Conversation, EventSink and SessionStore on real
Redis, with scripted stages (tests/gateway/scripted_stages.py). Each call runs seconds of
conversation in milliseconds, deterministically."""
from __future__ import annotations

import asyncio

import pytest

from soundloop import errors
from soundloop.clauses import ClauseSegmenter
from soundloop.settings import GatewaySettings
from soundloop.v1 import interaction_pb2 as pb

from .call_harness import Call, on_virtual_time
from .scripted_stages import Said, ScriptedStages, Timings

pytestmark = pytest.mark.unit

STORY = ("Once upon a time a dragon lived in a cave high above the sleepy village, "
         "and every morning it flew out to count the clouds.")
FIRST_CLAUSE = STORY.split(", ")[0] + ","
ASK_STORY = Said(0.5, 1.5, "Tell me a long story.")
EOT = {"Tell me a long story.": 0.9, "I would like to": 0.05, "And the weather?": 0.9,
       "Wait, what time is it?": 0.9, "What time is it?": 0.9,
       "I would like to know": 0.05, "I would like to know the capital of France.": 0.95,
       "What is the capital": 0.05, "What is the capital of France?": 0.95}


def segment(text: str) -> list[str]:
    segmenter = ClauseSegmenter()
    return segmenter.push(text) + segmenter.flush()


def replies(prompt: str) -> str:
    return STORY if "story" in prompt else "It is noon."


def test_a_question_with_a_pause_gets_one_reply_once_it_is_finished(redis_url):
    stages = ScriptedStages([Said(0.5, 1.7, "I would like to know"), Said(2.7, 3.9, "the capital of France.")],
                            EOT, reply="Paris.")

    async def scenario(store):
        call = await Call.open(store, stages)
        await call.stream(6.0)
        await call.end_of_input()

        assert call.actions().count("RESPOND") == 1
        respond = next(e for e in call.of("decision") if e.event.decision.action == pb.ACTION_RESPOND)
        assert respond.offset_s >= 3.9  # not in the pause
        finals = [e.event.transcript for e in call.of("transcript") if e.event.transcript.is_final]
        assert [(t.text, t.utterance) for t in finals] == [("I would like to know the capital of France.", 1)]
        # The pause got a speculative generation, dropped when the caller went on; the reply answers it all.
        assert stages.prompts == ["I would like to know", "I would like to know the capital of France."]
        completed = call.of("turn_completed")[0].event.turn_completed
        assert completed.text == "Paris." and completed.audio_samples == call.audio_samples("t1") > 0
        # On virtual time the latency is exact: VAD hangover, recognition, LLM, TTS, one chunk of slack.
        assert 0.5 < completed.metrics.voice_to_voice.ToMilliseconds() / 1000 < 0.8
        sequences = [e.event.sequence for e in call.events]
        assert sequences == list(range(1, len(sequences) + 1))

    on_virtual_time(redis_url, scenario)


def test_barge_in_mid_clause_stops_the_reply_and_history_keeps_what_was_heard(redis_url):
    stages = ScriptedStages([ASK_STORY, Said(3.5, 4.5, "Wait, what time is it?")], EOT, reply=replies)

    async def scenario(store):
        call = await Call.open(store, stages)
        call.report_playback(lag_s=1.5)  # a deep jitter buffer: it hears well behind what it got
        await call.stream(9.0)
        await call.end_of_input()

        actions = call.actions()
        assert actions.index("PAUSE_SPEAKING") < actions.index("STOP_SPEAKING")
        interrupted = call.of("turn_interrupted")
        assert [e.event.turn_interrupted.turn_id for e in interrupted] == ["t1"]
        heard = interrupted[0].event.turn_interrupted.heard_text
        # Cut inside the first clause: some of its words, not all of them.
        assert heard and FIRST_CLAUSE.startswith(heard) and len(heard) < len(FIRST_CLAUSE)
        # What was heard is what the caller's playback last reported, not all that was sent.
        samples_heard = interrupted[0].event.turn_interrupted.samples_heard
        assert 0 < samples_heard == call.reported("t1", before=interrupted[0].at) < call.audio_samples("t1")
        late_audio = [e for e in call.of("reply_audio")
                      if e.event.reply_audio.turn_id == "t1" and e.at > interrupted[0].at]
        assert late_audio == []
        # The interruption is answered as a turn of its own.
        started = [e.event.turn_started for e in call.of("turn_started")]
        assert [(t.turn_id, t.prompt) for t in started] == [("t1", "Tell me a long story."),
                                                            ("t2", "Wait, what time is it?")]
        history = (await store.load(call.resume_token)).history
        assert [(t.role, t.content) for t in history] == [
            ("user", "Tell me a long story."), ("assistant", heard),
            ("user", "Wait, what time is it?"), ("assistant", "It is noon.")]

    on_virtual_time(redis_url, scenario)


def test_a_backchannel_holds_the_reply_then_lets_it_finish(redis_url):
    stages = ScriptedStages([ASK_STORY, Said(3.5, 3.9, "Mm-hmm.")], EOT, reply=replies)

    async def scenario(store):
        call = await Call.open(store, stages)
        await call.stream(5.0)
        await call.end_of_input()

        actions = call.actions()
        assert "STOP_SPEAKING" not in actions
        assert actions.index("PAUSE_SPEAKING") < actions.index("IGNORE_BACKCHANNEL")
        assert call.of("turn_interrupted") == []
        completed = call.of("turn_completed")
        assert [e.event.turn_completed.text for e in completed] == [STORY]
        full = sum(round(len(c) / stages.t.tts_chars_per_s * 16000) for c in segment(STORY))  # one TTS call each
        assert abs(completed[0].event.turn_completed.audio_samples - full) < 1600
        assert stages.prompts == ["Tell me a long story."]  # "mm-hmm" is not a turn to answer
        history = (await store.load(call.resume_token)).history
        assert [t.content for t in history] == ["Tell me a long story.", STORY]

    on_virtual_time(redis_url, scenario)


def test_end_of_input_mid_reply_lets_the_reply_finish(redis_url):
    stages = ScriptedStages([ASK_STORY], EOT, reply=replies)

    async def scenario(store):
        call = await Call.open(store, stages)
        await call.stream(3.0)
        assert call.of("turn_started") and not call.of("turn_completed")
        ended_at = asyncio.get_running_loop().time()
        await call.end_of_input()

        completed = call.of("turn_completed")
        assert [e.event.turn_completed.text for e in completed] == [STORY]
        assert completed[0].event.turn_completed.audio_samples == call.audio_samples("t1")
        first_audio = call.first("reply_audio").at
        # The conversation finished only once all the reply had been paced out.
        assert completed[0].at - first_audio > len(STORY) / stages.t.tts_chars_per_s - 0.5
        assert completed[0].at > ended_at and call.of("turn_interrupted") == []

    on_virtual_time(redis_url, scenario)


def test_a_stage_error_mid_reply_is_reported_and_the_call_goes_on(redis_url):
    stages = ScriptedStages([ASK_STORY, Said(12.0, 12.8, "What time is it?")], EOT, reply=replies)
    stages.llm_failure = errors.Unavailable("model endpoint unreachable", stage="llm")

    async def scenario(store):
        call = await Call.open(store, stages)
        await call.stream(15.0)
        await call.end_of_input()

        failure = call.of("error")
        assert [e.event.error.code for e in failure] == ["UNAVAILABLE"]
        assert failure[0].event.error.message == "reply t1 failed: llm: model endpoint unreachable"
        completed = {e.event.turn_completed.turn_id: e.event.turn_completed for e in call.of("turn_completed")}
        # The words spoken before the failure, not the whole generated text.
        spoken = completed["t1"].text
        assert spoken and STORY.startswith(spoken) and len(spoken) < len(FIRST_CLAUSE)
        assert completed["t2"].text == "It is noon."
        history = (await store.load(call.resume_token)).history
        assert [t.content for t in history if t.role == "assistant"] == [spoken, "It is noon."]

    on_virtual_time(redis_url, scenario)


def test_a_failed_recognition_is_an_error_event_not_silence_and_loses_no_words(redis_url):
    stages = ScriptedStages([ASK_STORY, Said(5.0, 5.8, "What time is it?")], EOT, reply=replies)
    stages.asr_down_until_s = 4.0  # the encoder is down while the first question is asked

    async def scenario(store):
        call = await Call.open(store, stages)
        await call.stream(9.0)
        await call.end_of_input()

        (failure,) = call.of("error")
        assert failure.event.error.code == "UNAVAILABLE"
        assert failure.event.error.message.startswith("your last words were not recognized (encoder: no encoder")
        assert 1.5 < failure.offset_s < 3.0  # once the caller stopped, not after the next turn
        # Nothing the caller said is lost: once the encoder is back, the turn is heard whole and answered.
        completed = [e.event.turn_completed for e in call.of("turn_completed")]
        assert [c.text for c in completed] == [STORY]
        history = (await store.load(call.resume_token)).history
        assert [t.content for t in history] == ["Tell me a long story. What time is it?", STORY]

    on_virtual_time(redis_url, scenario)


def test_an_unexpected_stage_failure_reaches_the_caller_without_its_text(redis_url):
    stages = ScriptedStages([ASK_STORY], EOT, reply=replies)
    # What the stage client makes of a stage's INTERNAL status, whose details it keeps for the log.
    stages.tts_failure = errors.Internal("segfault in voice at 10.1.2.3, secret=hunter2", stage="tts")

    async def scenario(store):
        call = await Call.open(store, stages)
        await call.stream(4.0)
        await call.end_of_input()

        failure = call.of("error")
        assert [e.event.error.code for e in failure] == ["INTERNAL"]
        message = failure[0].event.error.message
        assert "hunter2" not in message and "10.1.2.3" not in message
        assert message == "reply t1 failed: the tts stage failed; see its log"
        assert call.audio_samples("t1") == 0
        assert [e.event.turn_completed.text for e in call.of("turn_completed")] == [""]

    on_virtual_time(redis_url, scenario)


def test_a_turn_cut_by_a_disconnect_is_finished_and_answered_after_resume(redis_url):
    stages = ScriptedStages([Said(0.5, 1.5, "What is the capital"), Said(2.2, 3.0, "of France?")], EOT,
                            reply="Paris.")

    async def scenario(store):
        first = await Call.open(store, stages)
        await first.stream(1.6)  # the line drops in the pause, the turn half said
        await asyncio.sleep(0.1)
        await first.hang_up()
        assert first.of("turn_started") == []

        second = await Call.open(store, stages, resume_token=first.resume_token)
        await second.stream(2.4)  # the stream clock goes on: "of France?" at 2.2-3.0 s
        await second.end_of_input()

        finals = [e.event.transcript for e in second.of("transcript") if e.event.transcript.is_final]
        assert [(t.text, t.utterance) for t in finals] == [("What is the capital of France?", 1)]
        assert [e.event.turn_started.prompt for e in second.of("turn_started")] == ["What is the capital of France?"]
        assert second.events[0].event.sequence == first.events[-1].event.sequence + 1
        assert second.first("turn_started").offset_s >= 3.0

    on_virtual_time(redis_url, scenario)


def test_typed_text_is_answered_ahead_of_queued_audio(redis_url):
    # The encoder takes 250 ms per 100 ms chunk: caller audio queues up behind it.
    stages = ScriptedStages([], EOT, reply="It is noon.", timings=Timings(encoder_s=0.25))

    async def scenario(store):
        call = await Call.open(store, stages)
        streaming = asyncio.create_task(call.stream(3.0))
        await asyncio.sleep(1.0)
        call.conversation.add_text("What time is it?")
        await streaming
        await call.end_of_input()

        started = call.first("turn_started")
        assert started.event.turn_started.cause == pb.TURN_CAUSE_TEXT
        # Answered within the chunk in progress, while most of the second already sent still waits.
        assert started.at - 1.0 < 0.3
        assert started.offset_s < 0.6

    on_virtual_time(redis_url, scenario)


def test_a_full_audio_lane_slows_the_caller_down_and_loses_nothing(redis_url):
    stages = ScriptedStages([], EOT, timings=Timings(encoder_s=0.2))  # half real-time speed

    async def scenario(store):
        call = await Call.open(store, stages, settings=GatewaySettings(inbox_audio_ms=500))
        loop = asyncio.get_running_loop()
        began = loop.time()
        await call.stream(3.0)
        took = loop.time() - began
        await call.end_of_input()

        assert took > 4.5  # the frames waited for room: 30 chunks at 200 ms each, 5 of them queued
        assert call.conversation.audio_ms == pytest.approx(3000)  # every frame was processed

    on_virtual_time(redis_url, scenario)


def test_a_turn_superseded_by_typed_text_does_not_swallow_the_next_words(redis_url):
    # The caller trails off, types instead, then speaks again: the new words are a turn of their own.
    stages = ScriptedStages([Said(0.5, 1.5, "I would like to"), Said(6.0, 7.0, "And the weather?")], EOT,
                            reply="It is noon.")

    async def scenario(store):
        call = await Call.open(store, stages)
        streaming = asyncio.create_task(call.stream(9.0))
        await asyncio.sleep(2.0)
        call.conversation.add_text("What time is it?")
        await streaming
        await call.end_of_input()

        started = [e.event.turn_started for e in call.of("turn_started")]
        assert [(t.cause, t.prompt) for t in started] == [(pb.TURN_CAUSE_TEXT, "What time is it?"),
                                                         (pb.TURN_CAUSE_SPEECH, "And the weather?")]
        assert [e.event.transcript.utterance for e in call.of("transcript") if e.event.transcript.is_final] == [2]

    on_virtual_time(redis_url, scenario)


def _late_decision_call(redis_url, speculative: bool) -> tuple[pb.TurnMetrics, list[str], object]:
    """A question whose words sound unfinished (p_end 0.3): the decider answers only after the long
    silence, while the transcript was ready long before."""
    stages = ScriptedStages([Said(0.5, 1.7, "What is the capital of France")], {"What is the capital of France": 0.3},
                            reply="Paris is the capital of France.")
    out = {}

    async def scenario(store):
        call = await Call.open(store, stages, settings=GatewaySettings(speculative_reply=speculative))
        await call.stream(5.0)
        await call.end_of_input()
        out["metrics"] = call.of("turn_completed")[0].event.turn_completed.metrics
        out["counts"] = call.conversation._replies.speculator.counts

    on_virtual_time(redis_url, scenario)
    return out["metrics"], stages.prompts, out["counts"]


def test_a_reply_generated_in_the_pause_is_adopted_when_the_decision_comes(redis_url):
    metrics, prompts, counts = _late_decision_call(redis_url, speculative=True)
    baseline, baseline_prompts, _ = _late_decision_call(redis_url, speculative=False)

    assert prompts == baseline_prompts == ["What is the capital of France"]  # one generation either way
    assert (counts.started, counts.adopted, counts.dropped) == (1, 1, 0)
    # The LLM's first token was there before the decision: only TTS remains after it.
    decided_to_audio = metrics.decision_to_first_audio.ToMilliseconds()
    t = Timings()
    assert decided_to_audio < (t.llm_first_token_s + t.tts_first_audio_s) * 1000
    assert baseline.decision_to_first_audio.ToMilliseconds() - decided_to_audio >= t.llm_first_token_s * 1000
    assert metrics.end_of_speech_to_decision.ToMilliseconds() >= 1800  # same (late) decision as without it


def test_a_speculative_reply_is_dropped_when_the_caller_goes_on_and_never_shown(redis_url):
    stages = ScriptedStages([Said(0.5, 1.7, "I would like to know"), Said(2.7, 3.9, "the capital of France.")],
                            EOT, reply=lambda prompt: "Paris." if "France" in prompt else "Know what?")

    async def scenario(store):
        call = await Call.open(store, stages)
        await call.stream(6.0)
        await call.end_of_input()

        counts = call.conversation._replies.speculator.counts
        assert (counts.started, counts.adopted, counts.dropped) == (2, 1, 1)
        texts = "".join(e.event.reply_text.delta for e in call.of("reply_text"))
        assert texts == "Paris."  # the dropped generation's words never reached the caller
        history = (await store.load(call.resume_token)).history
        assert [t.content for t in history] == ["I would like to know the capital of France.", "Paris."]

    on_virtual_time(redis_url, scenario)


def recorded_llm_requests(stages: ScriptedStages) -> list:
    """Every GenerateRequest the scripted LLM gets from now on, in order."""
    requests = []
    generate = stages.generate

    def recording(req):
        requests.append(req)
        return generate(req)
    stages.generate = recording
    return requests


def test_partial_transcripts_prefill_the_llm_while_the_caller_speaks(redis_url):
    said = Said(0.5, 3.6, "I would like to know the capital of France.")
    stages = ScriptedStages([said], EOT, reply="Paris.")
    requests = recorded_llm_requests(stages)

    async def scenario(store):
        call = await Call.open(store, stages, settings=GatewaySettings(partial_transcript_ms=1000))
        await call.stream(6.0)
        await call.end_of_input()

        prefills = [(r.max_tokens, r.messages[-1].content) for r in requests if r.turn_id == "prefill"]
        # Partials at 1, 2 and 3 s into the turn, each a one-token generation on the words so far.
        assert [n for n, _ in prefills] == [1] * len(prefills) and len(prefills) >= 2
        assert all(said.text.startswith(text) and text != said.text for _, text in prefills)
        assert "".join(e.event.reply_text.delta for e in call.of("reply_text")) == "Paris."
        history = (await store.load(call.resume_token)).history
        assert [t.content for t in history] == [said.text, "Paris."]  # prefills leave no trace

    on_virtual_time(redis_url, scenario)


def test_a_partial_that_comes_once_the_caller_went_quiet_is_not_prefilled(redis_url):
    # The partial asked for a second into the turn comes back once 1.8 s of the call are heard, after
    # the caller stopped at 1.75 s, in the VAD's hangover: the final recognition is on its way, and
    # the answer's generation would wait behind a prefill.
    said = Said(0.5, 1.75, "I would like to know the capital of France.")
    stages = ScriptedStages([said], EOT, reply="Paris.", timings=Timings(asr_s=0.25))
    requests = recorded_llm_requests(stages)

    async def scenario(store):
        call = await Call.open(store, stages, settings=GatewaySettings(partial_transcript_ms=1000))
        await call.stream(5.0)
        await call.end_of_input()

        partials = [e for e in call.of("transcript") if not e.event.transcript.is_final]
        assert partials[0].event.transcript.text != said.text and partials[0].offset_s == 1.8  # in the hangover
        turn_ids = [r.turn_id for r in requests]
        assert "prefill" not in turn_ids and turn_ids[0] == "speculative"
        assert "".join(e.event.reply_text.delta for e in call.of("reply_text")) == "Paris."

    on_virtual_time(redis_url, scenario)


def test_chunks_that_change_nothing_do_not_cross_to_the_decider(redis_url):
    stages = ScriptedStages([Said(0.5, 1.7, "I would like to know"), Said(2.7, 3.9, "the capital of France.")],
                            EOT, reply="Paris.")
    calls = []
    decide = stages.decide

    async def counting(req):
        calls.append(req.observation.now_ms)
        return await decide(req)
    stages.decide = counting

    async def scenario(store):
        call = await Call.open(store, stages, decision_events=pb.DECISION_EVENTS_ALL)
        await call.stream(8.0)
        await call.end_of_input()

        chunks = 80
        assert len(call.of("decision")) >= chunks  # a decision per chunk still reaches the caller
        assert len(calls) < chunks // 2
        assert call.actions().count("RESPOND") == 1  # and the conversation is the same
        respond = next(e for e in call.of("decision") if e.event.decision.action == pb.ACTION_RESPOND)
        assert respond.offset_s >= 3.9

    on_virtual_time(redis_url, scenario)
