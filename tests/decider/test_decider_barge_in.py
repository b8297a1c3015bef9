"""Caller speech over the reply: backchannels, barge-in, false interruptions (Full-Duplex-Bench style)."""
import pytest

from soundloop.decider.v1 import decider_pb2
from soundloop.v1 import interaction_pb2 as api
from tests.decider.decider_timeline import Timeline, events, first
from tests.support.end_of_turn import ScriptedEstimator

pytestmark = pytest.mark.unit

EOT = ScriptedEstimator({"What's the weather tomorrow?": 0.95, "What about Tuesday?": 0.9})
QUESTION = (0, 1200, "What's the weather tomorrow?")
REPLY_STARTS = 1500  # the question is answered at 1500 ms (250 ms of silence, 100 ms chunks)


def conversation(overlap, asr_delay_ms=200) -> Timeline:
    """The caller asks QUESTION, then speaks `overlap` (start, end, text) over the answer."""
    return Timeline().speech(*QUESTION).speech(*overlap, asr_delay_ms=asr_delay_ms)


def actions_between(steps, start, end):
    return [a for t, a in events(steps) if start < t <= end]


@pytest.mark.parametrize("word", ["Mm-hmm.", "Yeah.", "Uh-huh.", "Okay.", "I see."])
@pytest.mark.parametrize("length_ms", [400, 900])  # a drawn-out "mm-hm" outlasts BARGE_IN_SPEECH_MS
def test_backchannel_pauses_then_lets_the_reply_go_on(word, length_ms):
    steps = conversation((2000, 2000 + length_ms, word)).replay(EOT, until=9000, reply_ms=4000)
    assert first(steps, api.ACTION_RESPOND).now_ms == REPLY_STARTS
    assert actions_between(steps, REPLY_STARTS, 9000) == ["PAUSE_SPEAKING", "IGNORE_BACKCHANNEL"]
    assert first(steps, api.ACTION_PAUSE_SPEAKING).now_ms == 2100  # the chunk holding the onset
    ignore = first(steps, api.ACTION_IGNORE_BACKCHANNEL)
    assert ignore.response.decision.turn_id == "turn-1"
    # The acknowledgement counts as handled: it is not answered after the reply either.
    assert ignore.response.state.answered_utterance == 2
    assert steps[-1].observation.reply.active is False


def test_barge_in_is_held_at_its_onset_and_stopped_by_its_first_words():
    steps = conversation((2000, 3500, "What about Tuesday?"), asr_delay_ms=300).replay(EOT, reply_ms=5000)
    pause = first(steps, api.ACTION_PAUSE_SPEAKING)
    stop = first(steps, api.ACTION_STOP_SPEAKING)
    assert pause.now_ms == 2100  # the caller hears the reply stop here
    # "What" cannot become a backchannel: the first partial words settle it.
    assert stop.now_ms == 2800 and stop.reason == "barge-in: 'What'"
    assert stop.response.decision.turn_id == "turn-1"
    # Then the new question is answered once the caller finishes it.
    assert [a for t, a in events(steps) if t > stop.now_ms] == ["RESPOND"]
    assert first(steps, api.ACTION_RESPOND, after=stop.now_ms).response.state.answered_utterance == 2


def test_barge_in_stops_on_speech_length_before_any_words():
    # The recogniser lags: the reply is held from the onset, and once the speech is longer than
    # any acknowledgement (1.2 s) without words, its length decides.
    steps = conversation((2000, 3500, "What about Tuesday?"), asr_delay_ms=2000).replay(EOT, reply_ms=5000)
    stop = first(steps, api.ACTION_STOP_SPEAKING)
    assert first(steps, api.ACTION_PAUSE_SPEAKING).now_ms == 2100
    assert stop.now_ms == 2000 + 1200
    assert stop.reason == "barge-in: 1200 ms of speech"
    assert actions_between(steps, REPLY_STARTS, stop.now_ms) == ["PAUSE_SPEAKING", "STOP_SPEAKING"]


def test_short_words_that_are_not_a_backchannel_stop_the_reply():
    steps = conversation((2000, 2300, "Wait.")).replay(EOT, reply_ms=5000)
    assert actions_between(steps, REPLY_STARTS, 3000) == ["PAUSE_SPEAKING", "STOP_SPEAKING"]
    assert "'Wait.'" in first(steps, api.ACTION_STOP_SPEAKING).reason


def test_one_weak_word_over_the_reply_lets_it_go_on():
    # A hum the recogniser heard as a word ("mm-hm" -> "Literally."): held at the onset, then resumed.
    steps = conversation((2000, 2600, "Literally.")).replay(EOT, until=9000, reply_ms=5000)
    assert actions_between(steps, REPLY_STARTS, 9000) == ["PAUSE_SPEAKING", "RESUME_SPEAKING"]
    resume = first(steps, api.ACTION_RESUME_SPEAKING)
    assert resume.reason == "false interruption: weak words 'Literally.'"
    assert resume.response.state.answered_utterance == 2  # not answered after the reply either


def test_two_words_without_content_over_the_reply_let_it_go_on():
    # What Moonshine base made of an "mm-hm" in the benchmark: held at the onset, then resumed.
    steps = conversation((2000, 2700, "You know.")).replay(EOT, until=9000, reply_ms=5000)
    assert actions_between(steps, REPLY_STARTS, 9000) == ["PAUSE_SPEAKING", "RESUME_SPEAKING"]
    assert first(steps, api.ACTION_RESUME_SPEAKING).reason == "false interruption: weak words 'You know.'"


def test_two_words_with_content_stop_the_reply():
    steps = conversation((2000, 2700, "Two tickets.")).replay(EOT, reply_ms=5000)
    assert actions_between(steps, REPLY_STARTS, 4000) == ["PAUSE_SPEAKING", "STOP_SPEAKING"]


def test_a_barge_in_that_starts_with_a_weak_word_stops_at_the_second():
    steps = conversation((2000, 3500, "Tuesday works for me."), asr_delay_ms=300).replay(EOT, reply_ms=5000)
    stop = first(steps, api.ACTION_STOP_SPEAKING)
    assert first(steps, api.ACTION_PAUSE_SPEAKING).now_ms == 2100
    assert stop.reason == "barge-in: 'Tuesday works'"  # "Tuesday" alone held the reply, did not stop it


def test_a_slow_recognizer_still_stops_the_reply_for_a_short_wait():
    # "Wait." recognized a second after it was said (a loaded encoder): the reply stays held until
    # the words come, and they stop it. A 600 ms grace used to resume it first, so every short
    # interruption was lost whenever recognition was slower than that.
    steps = conversation((2000, 2300, "Wait."), asr_delay_ms=1000).replay(EOT, reply_ms=5000)
    assert actions_between(steps, REPLY_STARTS, 6500)[:2] == ["PAUSE_SPEAKING", "STOP_SPEAKING"]
    assert first(steps, api.ACTION_STOP_SPEAKING).now_ms == 2300 + 1000


def test_words_recognized_after_the_reply_resumed_do_not_stop_it():
    # The words arrive after the reply resumed (no transcript within RECOGNITION_WAIT_MS). The
    # gateway closes the overlap's turn on RESUME (services/gateway/caller_turn.py,
    # CallerTurn.settle), and the caller who says more is stopped by the speech-length rule.
    steps = conversation((2000, 2300, "Wait."), asr_delay_ms=2000).replay(EOT, reply_ms=5000)
    assert actions_between(steps, REPLY_STARTS, 6500) == ["PAUSE_SPEAKING", "RESUME_SPEAKING"]
    assert first(steps, api.ACTION_STOP_SPEAKING) is None


def test_the_policy_stops_for_late_words_of_an_unanswered_utterance():
    # The policy's own rule, for a caller turn still open under an unheld reply (the gateway
    # settles turns first, so it rarely shows one).
    obs = decider_pb2.Observation(now_ms=3300, silence_ms=1000, utterance=2, transcript="Wait.",
                                  transcript_is_final=True,
                                  reply=decider_pb2.ReplyState(active=True, turn_id="turn-1"))
    from services.decider import turn_policy
    state = decider_pb2.DeciderState(answered_utterance=1)
    response = turn_policy.decide(state, obs, decider_pb2.DeciderPolicy(), EOT)
    assert response.decision.action == api.ACTION_STOP_SPEAKING
    assert "late words" in response.decision.reason


def test_cough_resumes_the_reply():
    steps = conversation((2000, 2300, "")).replay(EOT, reply_ms=5000)
    assert actions_between(steps, REPLY_STARTS, 9000) == ["PAUSE_SPEAKING", "RESUME_SPEAKING"]
    resume = first(steps, api.ACTION_RESUME_SPEAKING)
    # An empty final transcript settles it as soon as it arrives (200 ms after the cough).
    assert resume.now_ms == 2500
    assert resume.reason == "false interruption: no words"


def test_noise_without_a_transcript_resumes_after_waiting_for_one():
    # No transcript at all (a failed recognition): the reply resumes 1.5 s into the silence.
    steps = conversation((2000, 2300, ""), asr_delay_ms=5000).replay(EOT, reply_ms=5000)
    assert first(steps, api.ACTION_RESUME_SPEAKING).now_ms == 2300 + 1500
    assert first(steps, api.ACTION_STOP_SPEAKING) is None


def test_no_barge_in_when_disallowed():
    policy = decider_pb2.DeciderPolicy(turn_detection=api.TurnDetection(allow_barge_in=False))
    steps = conversation((2000, 3500, "What about Tuesday?")).replay(EOT, policy, reply_ms=3000)
    during_reply = [s for s in steps if s.observation.reply.active and s.observation.reply.turn_id == "turn-1"]
    assert during_reply and all(s.action == api.ACTION_KEEP_LISTENING for s in during_reply)
    assert "barge-in disabled" in during_reply[-1].reason
    # The reply played to its end; the question asked over it is answered afterwards.
    reply_end = during_reply[-1].now_ms
    assert reply_end == REPLY_STARTS + 3000
    assert [a for t, a in events(steps) if t > REPLY_STARTS] == ["RESPOND"]
    assert first(steps, api.ACTION_RESPOND, after=REPLY_STARTS).now_ms == reply_end + 100


def test_a_paused_reply_is_never_left_held():
    # A held reply whose overlap the state does not know (state lost): resume rather than hold forever.
    obs = decider_pb2.Observation(now_ms=5000, silence_ms=900,
                                  reply=decider_pb2.ReplyState(active=True, paused=True, turn_id="t"))
    from services.decider import turn_policy
    response = turn_policy.decide(decider_pb2.DeciderState(), obs, decider_pb2.DeciderPolicy(), EOT)
    assert response.decision.action == api.ACTION_RESUME_SPEAKING
    assert response.decision.turn_id == "t"


def test_typed_text_during_a_held_reply_starts_a_new_turn():
    steps = conversation((2000, 2300, "")).text(2150, "Actually, book it for Friday.").replay(EOT, reply_ms=5000)
    assert actions_between(steps, REPLY_STARTS, 2200) == ["PAUSE_SPEAKING", "RESPOND"]
    typed = first(steps, api.ACTION_RESPOND, after=REPLY_STARTS)
    assert typed.reason == "typed instruction"
    assert typed.response.state.overlap_started_ms == 0
    # The new reply plays on: the noise of the overlap does not stop it.
    assert first(steps, api.ACTION_STOP_SPEAKING) is None
