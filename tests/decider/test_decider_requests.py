"""Policy defaults and validation, and the async stage around the pure policy."""
import asyncio
import threading

import pytest

from services.decider import turn_policy
from services.decider.stage import DeciderStage
from services.decider.turn_settings import DEFAULT_MIN_SOUND_SCORE, InvalidRequest, resolve
from soundloop.decider.v1 import decider_pb2
from soundloop.v1 import interaction_pb2 as api
from tests.support.end_of_turn import ScriptedEstimator

pytestmark = pytest.mark.unit


def request(policy=None, state=None, **observation) -> decider_pb2.DecideRequest:
    return decider_pb2.DecideRequest(state=state, observation=decider_pb2.Observation(**observation), policy=policy)


def test_defaults():
    settings = resolve(decider_pb2.DeciderPolicy())
    assert (settings.turn.min_silence_ms, settings.turn.max_silence_ms) == (250, 1800)
    assert settings.turn.end_of_turn_threshold == 0.5
    assert settings.turn.allow_barge_in is True
    assert settings.sound.min_score == DEFAULT_MIN_SOUND_SCORE
    assert "Smoke detector, smoke alarm" in settings.sound.respond_labels
    assert settings.sound.proactive


def test_the_longest_silences_allowed_are_accepted():
    settings = resolve(decider_pb2.DeciderPolicy(turn_detection=api.TurnDetection(min_silence_ms=10000,
                                                                                  max_silence_ms=10000)))
    assert (settings.turn.min_silence_ms, settings.turn.max_silence_ms) == (10000, 10000)


def test_one_explicit_bound_never_contradicts_the_other_default():
    settings = resolve(decider_pb2.DeciderPolicy(turn_detection=api.TurnDetection(min_silence_ms=2000)))
    assert (settings.turn.min_silence_ms, settings.turn.max_silence_ms) == (2000, 2000)


@pytest.mark.parametrize("policy, message", [
    (decider_pb2.DeciderPolicy(sound_policy=api.SoundPolicy(respond_labels=["Alarm", "Fire alarmm"])),
     "'Fire alarmm' not a YAMNet class name"),
    (decider_pb2.DeciderPolicy(sound_policy=api.SoundPolicy(min_score=1.5)), "min_score must be in [0, 1]"),
    (decider_pb2.DeciderPolicy(turn_detection=api.TurnDetection(min_silence_ms=900, max_silence_ms=400)),
     "max_silence_ms (400) is below min_silence_ms (900)"),
    (decider_pb2.DeciderPolicy(turn_detection=api.TurnDetection(eagerness=9)), "eagerness: unknown value 9"),
    # Once checked by the gateway too; the decider alone validates policy now.
    (decider_pb2.DeciderPolicy(turn_detection=api.TurnDetection(max_silence_ms=10001)),
     "policy.turn_detection.max_silence_ms is 10001; the limit is 10000"),
    (decider_pb2.DeciderPolicy(turn_detection=api.TurnDetection(min_silence_ms=12000)),
     "policy.turn_detection.min_silence_ms is 12000; the limit is 10000"),
    (decider_pb2.DeciderPolicy(sound_policy=api.SoundPolicy(min_score=-0.1)), "min_score must be in [0, 1]"),
])
def test_invalid_policies_are_named(policy, message):
    with pytest.raises(InvalidRequest) as error:
        turn_policy.decide(decider_pb2.DeciderState(), decider_pb2.Observation(now_ms=100), policy,
                           ScriptedEstimator({}))
    assert message in str(error.value)


def test_a_clock_that_goes_backwards_is_rejected():
    state = decider_pb2.DeciderState(last_sound_response_ms=9000)
    with pytest.raises(InvalidRequest, match=r"now_ms \(5000\) is before state.last_sound_response_ms \(9000\)"):
        turn_policy.decide(state, decider_pb2.Observation(now_ms=5000), decider_pb2.DeciderPolicy(),
                           ScriptedEstimator({}))


class ThreadRecordingEstimator(ScriptedEstimator):
    def probability(self, text: str) -> float:
        self.thread = threading.current_thread().name
        return super().probability(text)


async def test_stage_scores_new_transcripts_off_the_event_loop():
    estimator = ThreadRecordingEstimator({"What time is it?": 0.9}, default=None)
    stage = DeciderStage(estimator)
    try:
        response = await stage.decide(request(now_ms=1500, silence_ms=300, utterance=1, transcript="What time is it?",
                                              transcript_is_final=True))
        assert response.decision.action == api.ACTION_RESPOND
        assert response.end_of_turn_probability == pytest.approx(0.9)
        assert estimator.thread.startswith("end-of-turn")
        # The same text again (say the state went back): the cached score is used, the LM is not asked.
        again = await stage.decide(request(now_ms=1600, silence_ms=50, utterance=1, transcript="What time is it?",
                                           state=decider_pb2.DeciderState(eot_text="What time is it?",
                                                                          eot_probability=0.9)))
        assert again.decision.action == api.ACTION_KEEP_LISTENING
        assert again.end_of_turn_probability == pytest.approx(0.9)
        assert estimator.calls == ["What time is it?"]
    finally:
        stage.close()


async def test_stage_rejects_a_bad_policy_before_scoring():
    estimator = ScriptedEstimator({}, default=None)
    stage = DeciderStage(estimator)
    try:
        bad = decider_pb2.DeciderPolicy(sound_policy=api.SoundPolicy(respond_labels=["Doorbel"]))
        with pytest.raises(ValueError, match="'Doorbel'"):
            await stage.decide(request(bad, now_ms=1500, silence_ms=300, utterance=1, transcript="Hello?"))
        assert estimator.calls == []
    finally:
        stage.close()


async def test_stage_keeps_the_event_loop_free_while_scoring():
    release = threading.Event()

    class SlowEstimator:
        def probability(self, text):
            release.wait(5)
            return 0.9

    stage = DeciderStage(SlowEstimator())
    try:
        pending = asyncio.ensure_future(stage.decide(request(now_ms=1500, silence_ms=300, utterance=1,
                                                             transcript="Hi.")))
        # Other sessions' decisions that need no scoring go through meanwhile.
        quiet = await asyncio.wait_for(stage.decide(request(now_ms=100, silence_ms=100)), 1.0)
        assert quiet.decision.reason == "silence"
        assert not pending.done()
        release.set()
        assert (await pending).decision.action == api.ACTION_RESPOND
    finally:
        stage.close()


async def test_stage_prefetches_partial_transcripts_in_the_background():
    release = threading.Event()

    class PrefetchingEstimator(ScriptedEstimator):
        def __init__(self):
            super().__init__({"I would like to book a table.": 0.9}, default=None)
            self.prefetched: list[str] = []

        def prefetch(self, text):
            self.prefetched.append(text)
            release.wait(5)

    estimator = PrefetchingEstimator()
    stage = DeciderStage(estimator)
    try:
        for now, partial in ((1000, "I would like"), (1100, "I would like to book")):
            response = await asyncio.wait_for(stage.decide(request(
                now_ms=now, in_speech=True, speech_ms=now, utterance=1, transcript=partial)), 1.0)
            assert response.decision.reason == "caller speaking"
        # The first prefetch is still running: the second partial was not queued behind it.
        assert estimator.prefetched == ["I would like"]
        release.set()
        final = await stage.decide(request(now_ms=1700, silence_ms=300, utterance=1,
                                           transcript="I would like to book a table.", transcript_is_final=True))
        assert final.decision.action == api.ACTION_RESPOND
        assert estimator.calls == ["I would like to book a table."]
    finally:
        release.set()
        stage.close()
