"""Whether a sound heard while the line is quiet deserves a spoken reaction.

A tag in the respond set (the policy's labels, or the default alarm set) with a
score of at least min_score triggers a proactive reply, unless proactive
replies are off or one was given less than SOUND_COOLDOWN_MS ago. Any other
environment sound at min_score is reported as ignored. Voices, silence and
acoustic scenes are not sounds (sound_classes.NOT_SOUNDS).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from services.decider.turn_settings import SoundSettings
from soundloop.encoder.v1 import encoder_pb2
from soundloop.sound_classes import NOT_SOUNDS

# One alarm rings for many tagging windows; react once, not every half second.
SOUND_COOLDOWN_MS = 8000


@dataclasses.dataclass(frozen=True)
class SoundReaction:
    respond: bool
    tag: encoder_pb2.SoundTag
    reason: str


def react(tags: Sequence[encoder_pb2.SoundTag], settings: SoundSettings, now_ms: int,
          last_sound_response_ms: int) -> SoundReaction | None:
    """The reaction to the most notable sound among `tags`, or None when nothing notable was heard."""
    notable = [t for t in tags if t.label not in NOT_SOUNDS and t.score >= settings.min_score]
    if not notable:
        return None
    alarms = [t for t in notable if t.label in settings.respond_labels]
    if not alarms:
        top = max(notable, key=lambda t: t.score)
        return SoundReaction(False, top, f"benign sound: {top.label}")
    top = max(alarms, key=lambda t: t.score)
    if not settings.proactive:
        return SoundReaction(False, top, f"proactive replies off: {top.label}")
    since = now_ms - last_sound_response_ms
    if last_sound_response_ms and since < SOUND_COOLDOWN_MS:
        return SoundReaction(False, top, f"{top.label}: reacted {since / 1000:.1f} s ago")
    return SoundReaction(True, top, f"sound: {top.label} ({top.score:.2f})")
