"""Proactive reactions to environment sounds (Proactive-Sound-Bench style: RESPOND or IGNORE)."""
import pytest

from soundloop.decider.v1 import decider_pb2
from soundloop.sound_classes import DEFAULT_RESPOND_LABELS, NOT_SOUNDS, yamnet_labels
from soundloop.v1 import interaction_pb2 as api
from tests.decider.decider_timeline import Timeline, events, first
from tests.support.end_of_turn import ScriptedEstimator

pytestmark = pytest.mark.unit

EOT = ScriptedEstimator({"What time is it?": 0.9})


def sound_policy(**kwargs) -> decider_pb2.DeciderPolicy:
    return decider_pb2.DeciderPolicy(sound_policy=api.SoundPolicy(**kwargs))


def test_label_sets_are_yamnet_class_names():
    labels = yamnet_labels()
    assert len(labels) == 521
    assert DEFAULT_RESPOND_LABELS <= labels
    assert NOT_SOUNDS <= labels
    assert not DEFAULT_RESPOND_LABELS & NOT_SOUNDS


def test_alarm_triggers_a_proactive_reply():
    steps = Timeline().sound(1000, 3000, "Smoke detector, smoke alarm", 0.7).replay(EOT, until=4000)
    react = first(steps, api.ACTION_RESPOND_TO_SOUND)
    assert react.now_ms == 1100
    assert react.response.sound.label == "Smoke detector, smoke alarm"
    assert react.response.sound.score == pytest.approx(0.7)
    assert react.response.decision.confidence == pytest.approx(0.7)
    assert react.response.state.last_sound_response_ms == 1100


def test_benign_sound_is_ignored():
    steps = Timeline().sound(1000, 1300, "Camera", 0.6).replay(EOT, until=2000)
    assert [a for _, a in events(steps)] == ["IGNORE_SOUND"] * 3
    assert first(steps, api.ACTION_IGNORE_SOUND).reason == "benign sound: Camera"
    assert not first(steps, api.ACTION_IGNORE_SOUND).response.HasField("sound")


def test_weak_tags_voices_and_silence_are_not_sounds():
    steps = (Timeline().sound(500, 900, "Alarm", 0.25).sound(1000, 1500, "Speech", 0.9)
             .sound(1500, 2000, "Silence", 0.9).sound(2000, 2500, "Inside, small room", 0.8).replay(EOT, until=3000))
    assert events(steps) == []


def test_cool_down_between_sound_replies():
    steps = Timeline().sound(1000, 20000, "Alarm clock", 0.8).replay(EOT, until=20000, reply_ms=2000)
    reacts = [s.now_ms for s in steps if s.action == api.ACTION_RESPOND_TO_SOUND]
    assert reacts == [1100, 1100 + 8000, 1100 + 16000]
    ignored = first(steps, api.ACTION_IGNORE_SOUND)
    assert ignored.now_ms == 3200  # right after the 2 s reply
    assert ignored.reason == "Alarm clock: reacted 2.1 s ago"


def test_custom_respond_labels_replace_the_default_set():
    policy = sound_policy(respond_labels=["Camera"], min_score=0.5)
    camera = Timeline().sound(1000, 1100, "Camera", 0.6).replay(EOT, policy, until=1500)
    alarm = Timeline().sound(1000, 1100, "Alarm", 0.9).replay(EOT, policy, until=1500)
    weak = Timeline().sound(1000, 1100, "Camera", 0.4).replay(EOT, policy, until=1500)
    assert [a for _, a in events(camera)] == ["RESPOND_TO_SOUND"]
    assert [a for _, a in events(alarm)] == ["IGNORE_SOUND"]
    assert events(weak) == []


def test_disable_proactive_reports_but_never_reacts():
    steps = Timeline().sound(1000, 1200, "Fire alarm", 0.9).replay(EOT, sound_policy(disable_proactive=True))
    assert [a for _, a in events(steps)] == ["IGNORE_SOUND", "IGNORE_SOUND"]
    assert first(steps, api.ACTION_IGNORE_SOUND).reason == "proactive replies off: Fire alarm"


def test_no_sound_reactions_while_the_caller_speaks_or_a_reply_plays():
    steps = (Timeline().speech(0, 1000, "What time is it?").sound(500, 900, "Alarm", 0.9)
             .sound(1500, 2500, "Telephone bell ringing", 0.9).replay(EOT, until=3000, reply_ms=2000))
    assert [a for _, a in events(steps)] == ["RESPOND"]


def test_an_alarm_during_a_mid_turn_pause_gets_a_reaction():
    eot = ScriptedEstimator({"I would like to": 0.02})
    steps = (Timeline(asr_delay_ms=0).speech(0, 1000, "I would like to").sound(1500, 1600, "Siren", 0.8)
             .replay(eot, until=6000, reply_ms=1000))
    # The sound reply supersedes the half-said turn: it is not answered by the long-silence rule later.
    assert [a for _, a in events(steps)] == ["RESPOND_TO_SOUND"]
    assert first(steps, api.ACTION_RESPOND_TO_SOUND).response.state.answered_utterance == 1
