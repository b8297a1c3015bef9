"""The decider's use of the learned turn model, on scripted timelines (virtual clock).

The model's quality is measured by training/turn_taking/evaluate.py and the benchmark;
here: it steps once per chunk, its state travels in DeciderState and starts afresh after
each reply, eagerness sets its threshold, max_silence still answers, and every decision
said to hold does hold (the timeline checks that on every chunk).
"""
import numpy as np
import pytest

from services.decider import turn_model, turn_policy
from services.decider.turn_settings import InvalidRequest
from soundloop.decider.v1 import decider_pb2
from soundloop.v1 import interaction_pb2 as api
from tests.decider.decider_timeline import Timeline, first
from tests.support.end_of_turn import ScriptedEstimator

pytestmark = pytest.mark.unit

EOT = ScriptedEstimator({"What time is it?": 0.93, "I would like to book": 0.02,
                         "I would like to book a table for two tonight.": 0.9})
LEARNED = api.TURN_MODEL_LEARNED


@pytest.fixture(scope="module")
def model():
    return turn_model.TurnModel()


def policy(eagerness=api.EAGERNESS_UNSPECIFIED, **turn) -> decider_pb2.DeciderPolicy:
    return decider_pb2.DeciderPolicy(turn_detection=api.TurnDetection(eagerness=eagerness, model=LEARNED, **turn))


THRESHOLDS = {api.EAGERNESS_LOW: 0.85, api.EAGERNESS_MEDIUM: 0.7, api.EAGERNESS_HIGH: 0.5}


@pytest.mark.parametrize("eagerness", list(THRESHOLDS))
def test_respond_comes_at_the_first_chunk_over_the_eagerness_threshold_or_at_max_silence(model, eagerness):
    steps = (Timeline().speech(0, 1200, "I would like to book").speech(1900, 3100,
                                                                         "a table for two tonight.")
             .replay(EOT, policy(eagerness), turn_model=model))
    respond = first(steps, api.ACTION_RESPOND)
    assert respond is not None and not respond.observation.in_speech, "never while the caller speaks"
    quiet_with_text = [s for s in steps if not s.observation.in_speech and s.observation.transcript
                       and s.now_ms <= respond.now_ms]
    crossed = [s for s in quiet_with_text if s.response.state.turn_model_probability >= THRESHOLDS[eagerness]]
    max_silence = {api.EAGERNESS_LOW: 2500, api.EAGERNESS_MEDIUM: 1800, api.EAGERNESS_HIGH: 1000}[eagerness]
    if crossed:
        assert respond is crossed[0] or respond.now_ms < crossed[0].now_ms
        assert "model p=" in respond.reason
    else:
        assert respond.observation.silence_ms >= max_silence and "long silence" in respond.reason


def test_the_model_steps_once_per_chunk_and_keeps_its_state_in_the_decider_state(model):
    steps = Timeline().speech(0, 1200, "What time is it?").replay(EOT, policy(), turn_model=model, until=1400)
    hidden = [list(s.response.state.turn_model_hidden) for s in steps]
    assert all(len(h) == model.hidden_size for h in hidden)
    assert all(a != b for a, b in zip(hidden, hidden[1:])), "a new chunk moves the state"
    # The same chunk again from the same state gives the same result: the policy is pure.
    last = steps[-1]
    state = steps[-2].response.state
    again = turn_policy.decide(state, last.observation, policy(), EOT, model)
    assert list(again.state.turn_model_hidden) == hidden[-1]


def test_an_observation_without_a_chunk_does_not_step_the_model(model):
    state = decider_pb2.DeciderState(turn_model_hidden=[0.1] * model.hidden_size, turn_model_probability=0.3)
    obs = decider_pb2.Observation(now_ms=1500, silence_ms=300, transcript="What time is it?",
                                  transcript_is_final=True, utterance=1)
    response = turn_policy.decide(state, obs, policy(), EOT, model)
    assert list(response.state.turn_model_hidden) == pytest.approx([0.1] * model.hidden_size)
    assert response.state.turn_model_probability == pytest.approx(0.3)


def test_a_reply_starts_the_model_afresh(model):
    steps = Timeline().speech(0, 1200, "What time is it?").replay(EOT, policy(), turn_model=model, reply_ms=1000)
    respond = first(steps, api.ACTION_RESPOND)
    during_reply = [s for s in steps if s.observation.reply.active]
    assert respond is not None and during_reply
    assert all(len(s.response.state.turn_model_hidden) == 0 for s in during_reply)


def test_rules_stay_the_fallback_and_a_server_without_the_model_refuses_learned():
    rules = Timeline().speech(0, 1200, "What time is it?").replay(EOT, decider_pb2.DeciderPolicy())
    assert "finished turn" in first(rules, api.ACTION_RESPOND).reason
    with pytest.raises(InvalidRequest, match="no learned turn model"):
        turn_policy.decide(decider_pb2.DeciderState(), decider_pb2.Observation(now_ms=100), policy(), EOT, None)


def test_features_of_an_observation_match_the_training_layout(model):
    obs = decider_pb2.Observation(now_ms=100, in_speech=True, speech_ms=500)
    obs.prosody.energy_db, obs.prosody.voiced, obs.prosody.pitch_semitones, obs.prosody.vad_probability = (
        -30.0, 0.75, 6.0, 0.9)
    f = turn_model.features(obs, None)
    assert f.shape == (10,) and f.dtype == np.float32
    assert f.tolist() == pytest.approx([1.0, 0.9, np.log1p(0.5), 0.0, 60 / 90, 0.75, 0.5, 0.0, 0.0, 0.0])
    assert turn_model.features(obs, 0.8)[7:9].tolist() == pytest.approx([1.0, 0.8])


def test_without_chunk_prosody_the_rules_decide(model):
    """A gateway that sends no prosody (from before it, mid rolling upgrade) still gets answers."""
    obs = decider_pb2.Observation(now_ms=1500, silence_ms=300, transcript="What time is it?",
                                  transcript_is_final=True, utterance=1)
    state = decider_pb2.DeciderState(eot_text="What time is it?", eot_probability=0.93)
    response = turn_policy.decide(state, obs, policy(), EOT, model)
    assert response.decision.action == api.ACTION_RESPOND and "finished turn" in response.decision.reason
    assert len(response.state.turn_model_hidden) == 0


def test_both_profiles_default_to_the_learned_turn_model_and_the_setting_overrides(monkeypatch):
    """docs/benchmarks/2026-12-05-corrected-labels: the learned model took over fewer pauses on both
    profiles, with the rules in the same invocation; a server may still choose the rules."""
    import pydantic

    from soundloop.settings import load_settings

    monkeypatch.delenv("SOUNDLOOP_DECIDER__TURN_MODEL", raising=False)
    assert load_settings(profile="light").decider.turn_model == "learned"
    assert load_settings(profile="default").decider.turn_model == "learned"
    monkeypatch.setenv("SOUNDLOOP_DECIDER__TURN_MODEL", "rules")
    assert load_settings(profile="default").decider.turn_model == "rules"
    monkeypatch.setenv("SOUNDLOOP_DECIDER__TURN_MODEL", "smart-turn")
    with pytest.raises(pydantic.ValidationError, match="turn_model"):
        load_settings(profile="default")
