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


@functools.cache
def yamnet_labels() -> frozenset[str]:
    """Display names of the 521 classes of the assembled YAMNet model."""
    with open(model_path("yamnet", "yamnet_class_map.csv"), newline="", encoding="utf-8") as f:
        return frozenset(row["display_name"] for row in csv.DictReader(f))


def unknown_labels(labels: list[str] | tuple[str, ...]) -> list[str]:
    """The labels that are not YAMNet class names, in the given order."""
    known = yamnet_labels()
    return [label for label in labels if label not in known]
