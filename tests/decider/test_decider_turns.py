"""Turn-taking on scripted timelines: pause handling, smooth turn-taking, eagerness (Full-Duplex-Bench style)."""
import pytest

from soundloop.decider.v1 import decider_pb2
from soundloop.v1 import interaction_pb2 as api
from tests.decider.decider_timeline import Timeline, events, first
from tests.support.end_of_turn import ScriptedEstimator

pytestmark = pytest.mark.unit

RESPOND = api.ACTION_RESPOND
EOT = ScriptedEstimator({
    "What time is it?": 0.93,
    "I would like to book": 0.02,
    "I would like to book a table for two tonight.": 0.9,
    "Can you tell me the weather in": 0.03,
    "Tell me a joke.": 0.6,
})


def policy(eagerness=api.EAGERNESS_UNSPECIFIED, **turn) -> decider_pb2.DeciderPolicy:
    return decider_pb2.DeciderPolicy(turn_detection=api.TurnDetection(eagerness=eagerness, **turn))


def test_finished_question_is_answered_at_min_silence():
    steps = Timeline(asr_delay_ms=0).speech(0, 1200, "What time is it?").replay(EOT)
    respond = first(steps, RESPOND)
    # Medium eagerness: 250 ms of silence; the first 100 ms chunk that reaches it.
    assert respond.now_ms == 1500
    assert respond.response.end_of_turn_probability == pytest.approx(0.93)
    assert "finished turn" in respond.reason
    assert [a for _, a in events(steps)] == ["RESPOND"]


def test_respond_waits_for_the_lagging_transcript():
    # The final transcript comes 400 ms after the speech: only then does the question sound finished.
    steps = Timeline(asr_delay_ms=400).speech(0, 1200, "What time is it?").replay(EOT)
    assert first(steps, RESPOND).now_ms == 1600


def test_mid_sentence_pause_is_not_a_turn_end():
    steps = (Timeline()
             .speech(0, 1200, "I would like to book")
             .silence(1200, 2700)
             .speech(2700, 3900, "a table for two tonight.")
             .replay(EOT))
    during_pause = [s for s in steps if 1200 < s.now_ms <= 2700]
    assert all(s.action == api.ACTION_KEEP_LISTENING for s in during_pause)
    assert any("pause mid-turn, p_end=0.02" == s.reason for s in during_pause)
    respond = first(steps, RESPOND)
    assert 3900 + 250 <= respond.now_ms <= 3900 + 400
    # One turn, said in two breaths: answered as a whole.
    assert respond.observation.transcript == "I would like to book a table for two tonight."
    assert respond.response.state.answered_utterance == 1


def test_long_silence_answers_an_unfinished_turn():
    steps = Timeline(asr_delay_ms=0).speech(0, 1000, "Can you tell me the weather in").replay(EOT, until=4000)
    respond = first(steps, RESPOND)
    assert respond.now_ms == 1000 + 1800
    assert respond.reason.startswith("long silence")
    assert len([s for s in steps if s.action == RESPOND]) == 1


@pytest.mark.parametrize("eagerness, finished_at, unfinished_at", [
    (api.EAGERNESS_HIGH, 150, 1000),
    (api.EAGERNESS_MEDIUM, 250, 1800),
    (api.EAGERNESS_LOW, 500, 2500),
])
def test_eagerness_sets_the_timing(eagerness, finished_at, unfinished_at):
    finished = Timeline(asr_delay_ms=0).speech(0, 1000, "What time is it?").replay(EOT, policy(eagerness))
    unfinished = Timeline(asr_delay_ms=0).speech(0, 1000, "I would like to book").replay(
        EOT, policy(eagerness), until=4000)
    # Chunks are 100 ms: the decision comes with the first chunk at or past the threshold.
    assert 0 <= first(finished, RESPOND).now_ms - (1000 + finished_at) < 100
    assert 0 <= first(unfinished, RESPOND).now_ms - (1000 + unfinished_at) < 100


def test_eagerness_sets_the_end_of_turn_threshold():
    # p_end 0.6: finished enough for medium, not for low (which then waits for max_silence).
    line = Timeline(asr_delay_ms=0).speech(0, 1000, "Tell me a joke.")
    assert first(line.replay(EOT, policy(api.EAGERNESS_MEDIUM)), RESPOND).now_ms == 1300
    assert first(line.replay(EOT, policy(api.EAGERNESS_LOW), until=4000), RESPOND).now_ms == 1000 + 2500


def test_explicit_silences_override_eagerness():
    p = policy(api.EAGERNESS_HIGH, min_silence_ms=700, max_silence_ms=1200)
    assert first(Timeline(asr_delay_ms=0).speech(0, 1000, "What time is it?").replay(EOT, p), RESPOND).now_ms == 1700
    unfinished = Timeline(asr_delay_ms=0).speech(0, 1000, "I would like to book").replay(EOT, p)
    assert first(unfinished, RESPOND).now_ms == 2200


def test_short_speech_without_words_never_triggers_a_reply():
    # A cough the VAD took for speech: nothing to answer, nothing to ask again.
    steps = Timeline().speech(0, 600, "").replay(EOT, until=6000)
    assert events(steps) == []
    assert steps[-1].reason == "silence"


def test_speech_without_words_is_asked_again_after_max_silence():
    # A sentence on a line too noisy to recognize: not left in silence.
    steps = Timeline().speech(0, 1500, "").replay(EOT, until=6000, reply_ms=1000)
    assert events(steps) == [(1500 + 1800, "RESPOND")]
    respond = first(steps, RESPOND)
    assert respond.reason == "speech not understood (1500 ms of speech, no words recognized)"
    assert respond.response.state.answered_utterance == 1
    # Before then it waits, and says until when nothing changes (max_silence).
    waiting = [s for s in steps if 1500 < s.now_ms < 3300 and s.observation.transcript_is_final]
    assert waiting and all(s.response.stable_until_ms == 3300 for s in waiting)
    assert waiting[0].reason.startswith("pause after unclear speech")


def test_words_after_unclear_speech_are_answered_as_usual():
    # The first part was not made out, the rest was: the turn is answered on its words.
    steps = (Timeline().speech(0, 1200, "").speech(1700, 2500, "What time is it?")
             .replay(EOT, until=6000, reply_ms=1000))
    assert [a for _, a in events(steps)] == ["RESPOND"]
    assert first(steps, RESPOND).reason.startswith("finished turn")


def test_typed_text_is_answered_at_once():
    steps = Timeline().text(550, "What's on my calendar?").replay(EOT, until=1000)
    assert events(steps)[0] == (600, "RESPOND")
    assert first(steps, RESPOND).reason == "typed instruction"


def test_typed_text_supersedes_a_half_said_turn():
    steps = (Timeline().speech(0, 1000, "I would like to book").text(1500, "Book a table.")
             .replay(EOT, until=6000, reply_ms=1000))
    # One reply, to the typed text; the spoken fragment is not answered (again) later.
    assert [a for _, a in events(steps)] == ["RESPOND"]
    assert first(steps, RESPOND).reason == "typed instruction"


def test_each_new_transcript_is_scored_once():
    estimator = ScriptedEstimator({"I would like to book": 0.02}, default=None)
    Timeline(asr_delay_ms=0).speech(0, 1200, "I would like to book").replay(estimator, until=2500)
    assert estimator.calls == ["I would like to book"]


def test_replay_is_deterministic():
    line = (Timeline().speech(0, 1200, "I would like to book").speech(2200, 3000, "a table for two tonight.")
            .speech(3800, 4200, "Mm-hmm.").sound(9000, 10000, "Alarm"))
    first_run = [(s.now_ms, s.action, s.reason) for s in line.replay(EOT)]
    assert first_run == [(s.now_ms, s.action, s.reason) for s in line.replay(EOT)]


def test_the_state_records_the_last_decision():
    steps = Timeline(asr_delay_ms=0).speech(0, 1200, "What time is it?").replay(EOT, until=1500)
    state = steps[-1].response.state
    assert state.last_action == RESPOND
    assert state.last_reason == steps[-1].reason
    assert state.eot_text == "What time is it?"


def test_decisions_say_how_long_they_hold_without_new_input():
    from services.decider.turn_policy import UNTIL_NEW_INPUT
    from services.gateway.decision_hold import DecisionHold

    steps = Timeline(asr_delay_ms=300).speech(0, 1200, "I would like to book").replay(EOT, until=3500)
    by_time = {s.now_ms: s.response for s in steps}
    assert by_time[600].stable_until_ms == UNTIL_NEW_INPUT  # caller speaking
    # In the pause, p_end 0.02: nothing changes before max_silence (1800 ms) after the speech end.
    pause = next(s for s in steps if s.reason.startswith("pause mid-turn"))
    assert pause.response.stable_until_ms == pause.now_ms + 1800 - pause.observation.silence_ms
    assert first(steps, RESPOND).response.stable_until_ms == 0  # acting: ask again
    # Replayed the gateway's way, most chunks need no decide call at all.
    hold = DecisionHold()
    for step in steps:
        if not hold.holds_for(step.observation):
            hold.decided(step.observation, step.response)
    assert hold.skipped > len(steps) // 2
