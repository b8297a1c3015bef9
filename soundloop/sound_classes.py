"""Which YAMNet (AudioSet) classes are environment sounds, and which warrant a reaction.

The encoder tags sounds with YAMNet's display names, so every label the decider
accepts or ships as a default must be one of them: they come from the class map
of the assembled `yamnet` model. It lives in the kernel because the decider (policy,
reactions) and the gateway both read it, and no stage imports another.
"""
from __future__ import annotations

import csv
import functools

from soundloop.models import model_path
from soundloop.v1 import interaction_pb2 as api

# Alarm-like classes that call for a spoken reaction unprompted (Proactive-Sound-Bench
# "RESPOND" items: alarms, ringing phones, breaking glass, a crying baby, someone at the door).
DEFAULT_RESPOND_LABELS: frozenset[str] = frozenset({
    "Alarm",
    "Alarm clock",
    "Smoke detector, smoke alarm",
    "Fire alarm",
    "Car alarm",
    "Siren",
    "Civil defense siren",
    "Police car (siren)",
    "Ambulance (siren)",
    "Fire engine, fire truck (siren)",
    "Buzzer",
    "Telephone",
    "Telephone bell ringing",
    "Ringtone",
    "Glass",
    "Shatter",
    "Baby cry, infant cry",
    "Screaming",
    "Doorbell",
    "Ding-dong",
    "Knock",
})

# Voices and the absence of sound: the turn logic handles speech, so these are
# never reported as sound decisions.
NOT_SOUNDS: frozenset[str] = frozenset({
    "Speech",
    "Child speech, kid speaking",
    "Conversation",
    "Narration, monologue",
    "Babbling",
    "Speech synthesizer",
    "Whispering",
    "Hubbub, speech noise, speech babble",
    "Silence",
    # Acoustic scenes, not events: YAMNet puts them on almost any recording.
    "Inside, small room",
    "Inside, large room or hall",
    "Inside, public space",
    "Outside, urban or manmade",
    "Outside, rural or natural",
    "Reverberation",
    "Echo",
    "Field recording",
})


# Respond labels reacted to at once, even over the caller or a reply: danger, not news.
DEFAULT_URGENT_LABELS: frozenset[str] = frozenset({
    "Smoke detector, smoke alarm",
    "Fire alarm",
    "Civil defense siren",
    "Glass",
    "Shatter",
    "Screaming",
    "Gunshot, gunfire",
    "Explosion",
})

# Further respond-by-default sounds from the paper's examples and the list: a fall, a
# gunshot, an explosion, someone crying, an emergency vehicle. Not "Breaking": YAMNet gives it to
# crumpled paper (the benchmark's trash-empty sound, alone and over a reply), and breaking glass
# has its own classes (Glass, Shatter).
_ALSO_RESPOND = frozenset({"Smash, crash", "Gunshot, gunfire", "Explosion", "Crying, sobbing", "Emergency vehicle"})

# The paper's six domains over YAMNet's class order, which follows the AudioSet ontology: human
# sounds, animals, music, natural sounds, then sounds of things (vehicles; engines; domestic;
# alarms, bells, mechanisms, tools, explosions; materials and generic impacts), then
# source-ambiguous and channel classes. Ranges are class indices, end exclusive.
_DOMAIN_RANGES = (
    (0, 67, api.SOUND_DOMAIN_HUMAN),
    (67, 132, api.SOUND_DOMAIN_NATURE),  # animals
    (132, 277, api.SOUND_DOMAIN_MUSIC),
    (277, 294, api.SOUND_DOMAIN_NATURE),  # wind, water, fire
    (294, 337, api.SOUND_DOMAIN_TRAFFIC),  # vehicles, sirens of emergency vehicles included
    (337, 348, api.SOUND_DOMAIN_EQUIPMENT),  # engines, power tools
    (348, 382, api.SOUND_DOMAIN_DAILY_LIFE),  # doors, kitchen, bathroom, typing
    (382, 431, api.SOUND_DOMAIN_EQUIPMENT),  # alarms, telephones, mechanisms, tools, explosions
    (431, 494, api.SOUND_DOMAIN_DAILY_LIFE),  # wood, glass, liquids, impacts
    (494, 521, api.SOUND_DOMAIN_EQUIPMENT),  # tones, noise, TV and radio (silence and scenes are NOT_SOUNDS)
)


@functools.cache
def _class_names() -> tuple[str, ...]:
    with open(model_path("yamnet", "yamnet_class_map.csv"), newline="", encoding="utf-8") as f:
        return tuple(row["display_name"] for row in csv.DictReader(f))


def yamnet_labels() -> frozenset[str]:
    """Display names of the 521 classes of the assembled YAMNet model."""
    return frozenset(_class_names())


@functools.cache
def _domains() -> dict[str, int]:
    names = _class_names()
    if len(names) != _DOMAIN_RANGES[-1][1]:
        raise ValueError(f"the YAMNet class map has {len(names)} classes; the domain table expects "
                         f"{_DOMAIN_RANGES[-1][1]}")
    return {names[i]: domain for start, end, domain in _DOMAIN_RANGES for i in range(start, end)}


def domain_of(label: str) -> int:
    """The label's SoundDomain (UNSPECIFIED for a name that is not a YAMNet class)."""
    return _domains().get(label, api.SOUND_DOMAIN_UNSPECIFIED)


def default_respond_labels() -> frozenset[str]:
    return DEFAULT_RESPOND_LABELS | _ALSO_RESPOND


# How a reply names a sound: "That sounds like <name>." Labels not listed are named from their display
# name ("Car alarm" -> "a car alarm"); AudioSet names lists ("Smoke detector, smoke alarm") and
# parentheses ("Police car (siren)") read badly aloud, so the respond defaults are spelt out here.
_SPOKEN_NAMES = {
    "Alarm": "an alarm", "Alarm clock": "an alarm clock", "Smoke detector, smoke alarm": "a smoke alarm",
    "Fire alarm": "a fire alarm", "Car alarm": "a car alarm", "Siren": "a siren",
    "Civil defense siren": "an air-raid siren", "Police car (siren)": "a police siren",
    "Ambulance (siren)": "an ambulance siren", "Fire engine, fire truck (siren)": "a fire engine siren",
    "Emergency vehicle": "an emergency vehicle", "Buzzer": "a buzzer", "Telephone": "a phone ringing",
    "Telephone bell ringing": "a phone ringing", "Ringtone": "a phone ringing", "Glass": "glass breaking",
    "Shatter": "glass breaking", "Baby cry, infant cry": "a baby crying", "Crying, sobbing": "someone crying",
    "Screaming": "someone screaming", "Doorbell": "the doorbell", "Ding-dong": "the doorbell",
    "Knock": "a knock", "Smash, crash": "a crash", "Gunshot, gunfire": "a gunshot", "Explosion": "an explosion",
}


def spoken_name(label: str) -> str:
    """The sound as a reply says it: "a smoke alarm", "the doorbell", "someone screaming"."""
    if label in _SPOKEN_NAMES:
        return _SPOKEN_NAMES[label]
    name = label.split(",")[0].split("(")[0].strip().lower()
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"


def unknown_labels(labels: list[str] | tuple[str, ...]) -> list[str]:
    """The labels that are not YAMNet class names, in the given order."""
    known = yamnet_labels()
    return [label for label in labels if label not in known]
