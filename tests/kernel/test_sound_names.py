"""How replies name sounds: every default respond label reads naturally aloud."""
from __future__ import annotations

import pytest

from soundloop import sound_classes

pytestmark = pytest.mark.unit


def test_every_default_respond_label_has_a_spoken_name():
    for label in sound_classes.default_respond_labels():
        name = sound_classes.spoken_name(label)
        assert name.split()[0] in ("a", "an", "the", "someone", "glass"), (label, name)
        assert "," not in name and "(" not in name, (label, name)


def test_other_labels_are_named_from_their_display_name():
    assert sound_classes.spoken_name("Car alarm") == "a car alarm"
    assert sound_classes.spoken_name("Dog") == "a dog"
    assert sound_classes.spoken_name("Engine knocking") == "an engine knocking"
    assert sound_classes.spoken_name("Bicycle bell") == "a bicycle bell"
    assert sound_classes.spoken_name("Train horn") == "a train horn"
    assert sound_classes.spoken_name("Wind chime") == "a wind chime"
    assert sound_classes.spoken_name("Vehicle horn, car horn, honking") == "a vehicle horn"
