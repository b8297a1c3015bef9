"""Response modes on the decider's virtual clock: instructions switch them, the mode decides what is answered."""
import pytest

from services.decider import turn_policy
from services.decider.turn_settings import InvalidRequest
from soundloop.decider.v1 import decider_pb2
from soundloop.v1 import interaction_pb2 as api
from tests.decider.decider_timeline import Timeline, first
from tests.support.end_of_turn import ScriptedEstimator

pytestmark = pytest.mark.unit

# Every turn sounds finished: these tests are about what follows the end of a turn, not when it ends.
EOT = ScriptedEstimator({}, default=0.95)
ALARM = "Smoke detector, smoke alarm"


def policy(mode=api.RESPONSE_MODE_UNSPECIFIED, wake=(), max_sentences=0) -> decider_pb2.DeciderPolicy:
    return decider_pb2.DeciderPolicy(response=api.ResponsePolicy(mode=mode, wake_phrases=wake,
                                                                 max_sentences=max_sentences))


def acted(steps) -> list[str]:
    """The acting decisions, a decision repeated chunk after chunk (a sound heard on) once."""
    return [s.name for i, s in enumerate(steps) if s.action != api.ACTION_KEEP_LISTENING
            and (i == 0 or (steps[i - 1].name, steps[i - 1].reason) != (s.name, s.reason))]


def test_spoken_transcribe_only_is_kept_until_the_caller_lifts_it():
    steps = (Timeline(asr_delay_ms=0)
             .speech(0, 1500, "Just transcribe from now on.")
             .speech(3000, 4200, "What time is it?")
             .speech(6000, 7000, "You can talk again.")
             .speech(12000, 13000, "What time is it?")
             .replay(EOT))
    assert acted(steps) == ["CHANGE_MODE", "NO_REPLY", "CHANGE_MODE", "RESPOND"]
    change = first(steps, api.ACTION_CHANGE_MODE)
    assert change.reason == "instruction: transcribe only"
    assert change.response.confirmation == ""  # asked for silence: the ModeChanged event confirms it
    assert change.response.state.response.mode == api.RESPONSE_MODE_TRANSCRIBE_ONLY
    noted = first(steps, api.ACTION_NO_REPLY)
    assert noted.reason.startswith("transcribe only: not answered")
    assert noted.response.state.answered_utterance == noted.observation.utterance  # done with, not pending
    back = first(steps, api.ACTION_CHANGE_MODE, after=change.now_ms)
    assert back.response.confirmation == "Okay, I'm listening."
    assert back.response.state.response.mode == api.RESPONSE_MODE_CONVERSE


def test_dictation_before_you_can_talk_again_is_not_answered():
    steps = (Timeline(asr_delay_ms=0)
             .speech(0, 3000, "The boy was there when the sun rose. You can talk again.")
             .speech(8000, 9000, "What is two plus two?")  # after the confirmation
             .replay(EOT, policy(api.RESPONSE_MODE_TRANSCRIBE_ONLY)))
    assert acted(steps) == ["CHANGE_MODE", "RESPOND"]
    assert first(steps, api.ACTION_CHANGE_MODE).response.confirmation == "Okay, I'm listening."


def test_transcribe_only_ignores_sounds_and_typed_messages():
    steps = (Timeline(asr_delay_ms=0).sound(500, 1500, ALARM).text(3000, "What time is it?")
             .replay(EOT, policy(api.RESPONSE_MODE_TRANSCRIBE_ONLY)))
    assert acted(steps) == ["IGNORE_SOUND", "NO_REPLY"]
    assert first(steps, api.ACTION_IGNORE_SOUND).reason == f"transcribe only: {ALARM} not answered"


def test_quiet_until_addressed_answers_its_name_and_direct_questions():
    steps = (Timeline(asr_delay_ms=0)
             .speech(0, 1500, "I need eggs, milk and bread.")
             .speech(3000, 4000, "Ada, add butter.")
             .speech(9000, 10000, "What is on my list?")
             .speech(15000, 16000, "The dog is barking again.")
             .replay(EOT, policy(api.RESPONSE_MODE_QUIET_UNTIL_ADDRESSED, wake=["Ada"])))
    assert acted(steps) == ["NO_REPLY", "RESPOND", "RESPOND", "NO_REPLY"]
    assert "quiet until addressed: not answered" in first(steps, api.ACTION_NO_REPLY).reason


def test_quiet_mode_from_speech_takes_the_wake_phrase_and_answers_typed_messages():
    steps = (Timeline(asr_delay_ms=0)
             .speech(0, 1500, "Stay quiet until I say computer.")
             .speech(3000, 4000, "Add butter to the list.")
             .text(5500, "Add jam.")
             .speech(10000, 11000, "Computer, read the list.")
             .replay(EOT))
    assert acted(steps) == ["CHANGE_MODE", "NO_REPLY", "RESPOND", "RESPOND"]
    state = first(steps, api.ACTION_CHANGE_MODE).response.state
    assert (state.response.mode, list(state.response.wake_phrases)) == (
        api.RESPONSE_MODE_QUIET_UNTIL_ADDRESSED, ["computer"])


def test_an_instruction_with_content_is_answered_under_the_new_policy_only_when_it_may_speak():
    # Quiet mode asked for, with a statement: the statement is noted, not answered.
    quiet = (Timeline(asr_delay_ms=0)
             .speech(0, 3000, "Please just listen and do not answer until I ask. I need eggs, milk and bread.")
             .replay(EOT))
    assert acted(quiet) == ["CHANGE_MODE"]
    # A lasting length limit with a question: answered at once, within the limit.
    length = (Timeline(asr_delay_ms=0)
              .speech(0, 3000, "From now on answer in one sentence. What is a star?")
              .replay(EOT))
    respond = first(length, api.ACTION_RESPOND)
    assert acted(length) == ["RESPOND"]
    assert respond.response.max_sentences == 1
    assert respond.response.state.response.max_sentences == 1


def test_a_length_instruction_inside_a_question_limits_that_reply_alone():
    steps = (Timeline(asr_delay_ms=0)
             .speech(0, 2000, "In one sentence, what is the capital of France?")
             .speech(6000, 7000, "Tell me about Paris.")
             .replay(EOT, policy(max_sentences=3)))
    first_reply, second_reply = [s for s in steps if s.action == api.ACTION_RESPOND]
    assert first_reply.response.max_sentences == 1
    assert second_reply.response.max_sentences == 3
    assert not first_reply.response.state.HasField("response")  # the session's policy is unchanged


def test_a_standalone_length_instruction_is_confirmed():
    steps = Timeline(asr_delay_ms=0).speech(0, 2000, "Keep your answers to two sentences.").replay(EOT)
    change = first(steps, api.ACTION_CHANGE_MODE)
    assert change.response.confirmation == "Okay, I'll keep my answers to two sentences."
    assert change.response.state.response.max_sentences == 2


def test_sounds_only_answers_alarms_not_speech():
    steps = (Timeline(asr_delay_ms=0).speech(0, 1200, "What time is it?").sound(3000, 4000, ALARM)
             .replay(EOT, policy(api.RESPONSE_MODE_SOUNDS_ONLY)))
    assert acted(steps) == ["NO_REPLY", "RESPOND_TO_SOUND"]


def test_talk_about_quiet_is_not_an_instruction():
    steps = Timeline(asr_delay_ms=0).speech(0, 1500, "My kids won't stay quiet.").replay(EOT)
    assert acted(steps) == ["RESPOND"]
    assert not first(steps, api.ACTION_RESPOND).response.state.HasField("response")


@pytest.mark.parametrize("response, message", [
    (api.ResponsePolicy(mode=9), "policy.response.mode: unknown value 9"),
    (api.ResponsePolicy(wake_phrases=["?!"]), "policy.response.wake_phrases: '?!' must have a letter"),
    (api.ResponsePolicy(max_sentences=50), "policy.response.max_sentences is 50; the limit is 20"),
])
def test_a_bad_response_policy_is_rejected_naming_the_field(response, message):
    with pytest.raises(InvalidRequest, match=message.replace("?", r"\?")):
        turn_policy.decide(decider_pb2.DeciderState(), decider_pb2.Observation(now_ms=100),
                           decider_pb2.DeciderPolicy(response=response), EOT)


def test_a_wake_phrase_alone_waits_for_the_request_after_it():
    steps = (Timeline(asr_delay_ms=0)
             .speech(0, 600, "Computer.")
             .speech(1300, 2300, "What do I need?")
             .speech(5000, 5600, "Computer.")
             .replay(EOT, policy(api.RESPONSE_MODE_QUIET_UNTIL_ADDRESSED, wake=["computer"])))
    responds = [s for s in steps if s.action == api.ACTION_RESPOND]
    assert [r.observation.transcript for r in responds] == ["Computer. What do I need?", "Computer."]
    assert "waiting for the request" in steps[8].reason  # 800 ms: past min_silence, one turn still open
    # Called and nothing after it: answered once the silence reaches max_silence (1800 ms, medium).
    assert responds[1].observation.silence_ms >= 1800
