"""Whether a sound deserves a spoken reaction, and when: now, or once the line is free.

A tag the policy responds to (services/decider/turn_settings.SoundSettings: labels,
domains, the defaults of soundloop/sound_classes.py) with a score of at least min_score
triggers a proactive reply, unless proactive replies are off or one was given less than
SOUND_COOLDOWN_MS ago. Any other environment sound at min_score is reported as ignored.
Voices, silence and acoustic scenes are not sounds (sound_classes.NOT_SOUNDS).

A sound heard while the line is busy (the caller speaking, their turn not yet answered, a
reply playing) waits in the decider state (`pending_sound`), for at most PENDING_SOUND_MS:
over a reply it is reacted to at once (the reply stops); over the caller, an urgent one (a
smoke alarm, breaking glass) is reacted to at their next pause, another is mentioned in the
answer to their turn.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from services.decider.turn_settings import SoundSettings
from soundloop.decider.v1 import decider_pb2
from soundloop.encoder.v1 import encoder_pb2
from soundloop.sound_classes import NOT_SOUNDS, domain_of
from soundloop.v1 import interaction_pb2 as api

# One alarm rings for many tagging windows; react once, not every half second.
SOUND_COOLDOWN_MS = 8000
# A sound heard this long ago is stale news: the caller's turn or the reply took too long.
PENDING_SOUND_MS = 20_000


@dataclasses.dataclass(frozen=True)
class SoundReaction:
    respond: bool
    tag: encoder_pb2.SoundTag
    reason: str
    urgent: bool = False


def _respond(tag: encoder_pb2.SoundTag, urgent: bool, heard: str = "") -> SoundReaction:
    """A reaction, its reason naming the sound, its domain and score ("urgent sound 1.2 s ago: ...")."""
    domain = api.SoundDomain.Name(domain_of(tag.label)).removeprefix("SOUND_DOMAIN_").lower().replace("_", " ")
    return SoundReaction(True, tag, f"{'urgent ' if urgent else ''}sound{heard}: {tag.label} ({domain}, "
                                    f"{tag.score:.2f})", urgent)


def react(tags: Sequence[encoder_pb2.SoundTag], settings: SoundSettings, now_ms: int,
          last_sound_response_ms: int) -> SoundReaction | None:
    """The reaction to the most notable sound among `tags`, or None when nothing notable was heard."""
    notable = [t for t in tags if t.label not in NOT_SOUNDS and t.score >= settings.min_score]
    if not notable:
        return None
    wanted = [t for t in notable if settings.responds_to(t.label)]
    if not wanted:
        top = max(notable, key=lambda t: t.score)
        return SoundReaction(False, top, f"benign sound: {top.label}")
    top = max(wanted, key=lambda t: (settings.is_urgent(t.label), t.score))
    if not settings.proactive:
        return SoundReaction(False, top, f"proactive replies off: {top.label}")
    since = now_ms - last_sound_response_ms
    if last_sound_response_ms and since < SOUND_COOLDOWN_MS:
        return SoundReaction(False, top, f"{top.label}: reacted {since / 1000:.1f} s ago")
    return _respond(top, settings.is_urgent(top.label))


def hold(state: decider_pb2.DeciderState, tag: encoder_pb2.SoundTag, now_ms: int) -> None:
    """Keeps a sound for when the line is free (the stronger of two, the newer of equals)."""
    if not state.HasField("pending_sound") or tag.score >= state.pending_sound.score:
        state.pending_sound.CopyFrom(tag)
        state.pending_sound_ms = max(1, now_ms)


def pending(state: decider_pb2.DeciderState, settings: SoundSettings, now_ms: int) -> SoundReaction | None:
    """The held sound, if still fresh (a stale one is dropped)."""
    if not state.HasField("pending_sound"):
        return None
    if now_ms - state.pending_sound_ms > PENDING_SOUND_MS:
        release(state)
        return None
    tag = state.pending_sound
    return _respond(tag, settings.is_urgent(tag.label), f" {(now_ms - state.pending_sound_ms) / 1000:.1f} s ago")


def release(state: decider_pb2.DeciderState) -> None:
    state.ClearField("pending_sound")
    state.pending_sound_ms = 0
