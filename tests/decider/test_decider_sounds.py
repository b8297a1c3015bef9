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


def test_a_sound_over_the_callers_words_is_reacted_to_in_the_answer_to_them():
    steps = (Timeline().speech(0, 1000, "What time is it?").sound(500, 900, "Alarm", 0.9)
             .replay(EOT, until=3000, reply_ms=2000))
    assert [a for _, a in events(steps)] == ["RESPOND"]
    respond = first(steps, api.ACTION_RESPOND)
    assert respond.response.sound.label == "Alarm"
    assert "sound" in respond.reason and respond.response.state.last_sound_response_ms == respond.now_ms
    assert not respond.response.state.HasField("pending_sound")


def test_a_sound_during_a_reply_stops_it_at_once():
    steps = (Timeline().speech(0, 1000, "What time is it?").sound(1500, 2500, "Telephone bell ringing", 0.9)
             .replay(EOT, until=5000, reply_ms=3000))
    assert [a for _, a in events(steps)] == ["RESPOND", "RESPOND_TO_SOUND"]
    react = first(steps, api.ACTION_RESPOND_TO_SOUND)
    assert react.now_ms == 1600 and react.observation.reply.active
    assert react.response.sound.label == "Telephone bell ringing"


def test_a_sound_while_the_caller_talks_over_the_reply_waits_for_the_overlap():
    steps = (Timeline(asr_delay_ms=0).speech(0, 1000, "What time is it?").speech(2000, 2600, "Mm-hmm.")
             .sound(2100, 2400, "Doorbell", 0.9).replay(EOT, until=5000, reply_ms=3000))
    acts = [a for _, a in events(steps)]
    assert acts[:2] == ["RESPOND", "PAUSE_SPEAKING"] and "RESPOND_TO_SOUND" in acts
    react = first(steps, api.ACTION_RESPOND_TO_SOUND)
    assert react.now_ms > 2600 and not react.observation.in_speech


def test_an_urgent_sound_stops_the_reply():
    steps = (Timeline().speech(0, 1000, "What time is it?").sound(1800, 2500, "Smoke detector, smoke alarm", 0.8)
             .replay(EOT, until=5000, reply_ms=3000))
    react = first(steps, api.ACTION_RESPOND_TO_SOUND)
    assert react.now_ms == 1900 and react.observation.reply.active
    assert react.reason.startswith("urgent sound") and react.reason.endswith("over the reply")


def test_an_urgent_sound_over_the_caller_is_reacted_to_in_their_pause():
    eot = ScriptedEstimator({"I would like to": 0.02, "book a table.": 0.9})
    steps = (Timeline(asr_delay_ms=0).speech(0, 1000, "I would like to").sound(400, 900, "Glass", 0.8)
             .speech(3500, 4500, "book a table.").replay(eot, until=7000, reply_ms=1500))
    assert [a for _, a in events(steps)] == ["RESPOND_TO_SOUND", "RESPOND"]
    react, respond = first(steps, api.ACTION_RESPOND_TO_SOUND), first(steps, api.ACTION_RESPOND)
    assert react.now_ms == 1000  # the caller's first pause
    assert react.reason.endswith("in the caller's pause")
    # The half-said turn is superseded (the gateway keeps its words in the history); the rest is a new turn.
    assert respond.observation.transcript == "book a table."


def test_a_sound_in_a_mid_turn_pause_waits_for_the_turn():
    eot = ScriptedEstimator({"I would like to": 0.02})
    steps = (Timeline(asr_delay_ms=0).speech(0, 1000, "I would like to").sound(1500, 1600, "Siren", 0.8)
             .replay(eot, until=6000, reply_ms=1000))
    # Not urgent: the caller may go on; when their turn is answered (long silence), the answer reacts to it.
    assert [a for _, a in events(steps)] == ["RESPOND"]
    assert first(steps, api.ACTION_RESPOND).response.sound.label == "Siren"


def test_domains_and_labels_override_the_defaults():
    def reacted(label, **policy):
        steps = Timeline().sound(1000, 1100, label, 0.8).replay(EOT, sound_policy(**policy), until=1500)
        return [a for _, a in events(steps)] == ["RESPOND_TO_SOUND"]
    assert not reacted("Bark") and reacted("Bark", respond_domains=[api.SOUND_DOMAIN_NATURE])
    assert reacted("Doorbell") and not reacted("Doorbell", ignore_labels=["Doorbell"])
    assert not reacted("Alarm clock", ignore_domains=[api.SOUND_DOMAIN_EQUIPMENT])
    assert reacted("Alarm clock", ignore_domains=[api.SOUND_DOMAIN_EQUIPMENT], respond_labels=["Alarm clock"])


def test_every_label_has_a_domain_and_the_defaults_follow_the_paper():
    from soundloop.sound_classes import default_respond_labels, domain_of
    assert all(domain_of(label) != api.SOUND_DOMAIN_UNSPECIFIED for label in yamnet_labels())
    assert {domain_of(x) for x in ("Speech", "Door", "Alarm", "Car", "Bird", "Guitar")} == {
        api.SOUND_DOMAIN_HUMAN, api.SOUND_DOMAIN_DAILY_LIFE, api.SOUND_DOMAIN_EQUIPMENT, api.SOUND_DOMAIN_TRAFFIC,
        api.SOUND_DOMAIN_NATURE, api.SOUND_DOMAIN_MUSIC}
    respond = default_respond_labels()
    assert {"Shatter", "Baby cry, infant cry", "Knock", "Telephone bell ringing", "Smash, crash"} <= respond
    assert not {"Traffic noise, roadway noise", "Music", "Typing", "Bird vocalization, bird call, bird song",
                "Camera"} & respond


def test_a_bad_domain_is_rejected():
    from services.decider.turn_settings import InvalidRequest, resolve
    with pytest.raises(InvalidRequest, match="policy.sound_policy.respond_domains: 0 is not a sound domain"):
        resolve(sound_policy(respond_domains=[api.SOUND_DOMAIN_UNSPECIFIED]))
