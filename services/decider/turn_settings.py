"""The caller's DeciderPolicy with every default filled in, validated.

Proto3 zeros mean "default": TurnDetection fields take the values of the
eagerness (medium when unspecified), SoundPolicy an empty label list takes the
default alarm set and a zero min_score 0.3, ResponsePolicy an unspecified mode CONVERSE.
"""
from __future__ import annotations

import dataclasses
import math

from soundloop import instructions
from soundloop.decider.v1 import decider_pb2
from soundloop.errors import InvalidRequest  # a DecideRequest the decider cannot act on, field named
from soundloop.sound_classes import DEFAULT_URGENT_LABELS, default_respond_labels, domain_of, unknown_labels
from soundloop.v1 import interaction_pb2 as api


@dataclasses.dataclass(frozen=True)
class Eagerness:
    min_silence_ms: int
    max_silence_ms: int
    # End-of-turn probability from which a finished-sounding turn is answered after min_silence_ms.
    end_of_turn_threshold: float
    # The learned turn model's P(respond) from which it answers. Higher than the rules' threshold on the
    # LM's score: in its training corpus most quiet chunks after words are ends of turns (every turn
    # ends in 2 s of silence, half have a pause), so its P(respond) sits well above 0.5 wherever the
    # evidence is even, and 0.5 answered pauses on which it leaned towards a pause (offline at 0.5 -> 0.7:
    # takeover 0.246 -> 0.130 synthetic, 0.167 -> 0.097 real; clean whole turns the same, p50 292 ms; the
    # model card, "Decision threshold").
    model_threshold: float


EAGERNESS: dict[int, Eagerness] = {
    api.EAGERNESS_LOW: Eagerness(min_silence_ms=500, max_silence_ms=2500, end_of_turn_threshold=0.7,
                                 model_threshold=0.85),
    api.EAGERNESS_MEDIUM: Eagerness(min_silence_ms=250, max_silence_ms=1800, end_of_turn_threshold=0.5,
                                    model_threshold=0.7),
    api.EAGERNESS_HIGH: Eagerness(min_silence_ms=150, max_silence_ms=1000, end_of_turn_threshold=0.35,
                                  model_threshold=0.5),
}
DEFAULT_MIN_SOUND_SCORE = 0.3
# Longer than this and a caller who stopped talking waits ages for an answer: almost surely a unit mistake.
MAX_SILENCE_LIMIT_MS = 10_000


@dataclasses.dataclass(frozen=True)
class TurnSettings:
    min_silence_ms: int
    max_silence_ms: int
    end_of_turn_threshold: float
    allow_barge_in: bool
    model: int = api.TURN_MODEL_UNSPECIFIED  # api.TurnModel; unspecified: the server's default
    model_threshold: float = EAGERNESS[api.EAGERNESS_MEDIUM].model_threshold


@dataclasses.dataclass(frozen=True)
class SoundSettings:
    respond_labels: frozenset[str]
    min_score: float
    proactive: bool
    ignore_labels: frozenset[str] = frozenset()
    respond_domains: frozenset[int] = frozenset()  # api.SoundDomain
    ignore_domains: frozenset[int] = frozenset()
    urgent_labels: frozenset[str] = DEFAULT_URGENT_LABELS
    explicit_respond: bool = False  # respond_labels were named by the caller (not the defaults)

    def responds_to(self, label: str) -> bool:
        """Whether `label` gets a reaction, by the SoundPolicy's precedence."""
        if label in self.ignore_labels:
            return False
        if self.explicit_respond and label in self.respond_labels:
            return True
        domain = domain_of(label)
        if domain in self.ignore_domains:
            return False
        return domain in self.respond_domains or label in self.respond_labels

    def is_urgent(self, label: str) -> bool:
        return label in self.urgent_labels


@dataclasses.dataclass(frozen=True)
class ResolvedPolicy:
    turn: TurnSettings
    sound: SoundSettings
    response: api.ResponsePolicy  # at the session's start; instructions change it in the state


def resolve_turn(td: api.TurnDetection) -> TurnSettings:
    eagerness = td.eagerness or api.EAGERNESS_MEDIUM
    if eagerness not in EAGERNESS:
        raise InvalidRequest(f"policy.turn_detection.eagerness: unknown value {td.eagerness}")
    defaults = EAGERNESS[eagerness]
    for field in ("min_silence_ms", "max_silence_ms"):
        if getattr(td, field) > MAX_SILENCE_LIMIT_MS:
            raise InvalidRequest(f"policy.turn_detection.{field} is {getattr(td, field)}; "
                                 f"the limit is {MAX_SILENCE_LIMIT_MS}")
    if td.min_silence_ms and td.max_silence_ms and td.max_silence_ms < td.min_silence_ms:
        raise InvalidRequest(
            f"policy.turn_detection: max_silence_ms ({td.max_silence_ms}) is below min_silence_ms "
            f"({td.min_silence_ms})")
    min_silence = td.min_silence_ms or defaults.min_silence_ms
    # Only one bound given: the other default never contradicts it.
    max_silence = max(td.max_silence_ms or defaults.max_silence_ms, min_silence)
    allow_barge_in = td.allow_barge_in if td.HasField("allow_barge_in") else True
    if td.model not in api.TurnModel.values():
        raise InvalidRequest(f"policy.turn_detection.model: unknown value {td.model}")
    return TurnSettings(min_silence_ms=min_silence, max_silence_ms=max_silence,
                        end_of_turn_threshold=defaults.end_of_turn_threshold, allow_barge_in=allow_barge_in,
                        model=td.model, model_threshold=defaults.model_threshold)


def resolve_sound(sp: api.SoundPolicy) -> SoundSettings:
    for field in ("respond_labels", "ignore_labels", "urgent_labels"):
        unknown = unknown_labels(list(getattr(sp, field)))
        if unknown:
            names = ", ".join(repr(label) for label in unknown)
            raise InvalidRequest(
                f"policy.sound_policy.{field}: {names} not a YAMNet class name "
                f"(use AudioSet display names such as 'Smoke detector, smoke alarm')")
    for field in ("respond_domains", "ignore_domains"):
        for domain in getattr(sp, field):
            if domain not in api.SoundDomain.values() or domain == api.SOUND_DOMAIN_UNSPECIFIED:
                raise InvalidRequest(f"policy.sound_policy.{field}: {domain} is not a sound domain "
                                     "(SOUND_DOMAIN_HUMAN ... SOUND_DOMAIN_MUSIC)")
    if math.isnan(sp.min_score) or not 0.0 <= sp.min_score <= 1.0:
        raise InvalidRequest(f"policy.sound_policy.min_score must be in [0, 1], got {sp.min_score}")
    labels = frozenset(sp.respond_labels) or default_respond_labels()
    return SoundSettings(respond_labels=labels, min_score=sp.min_score or DEFAULT_MIN_SOUND_SCORE,
                         proactive=not sp.disable_proactive, ignore_labels=frozenset(sp.ignore_labels),
                         respond_domains=frozenset(sp.respond_domains), ignore_domains=frozenset(sp.ignore_domains),
                         urgent_labels=frozenset(sp.urgent_labels) or DEFAULT_URGENT_LABELS,
                         explicit_respond=bool(sp.respond_labels))


MAX_WAKE_PHRASES = 8
MAX_WAKE_PHRASE_CHARS = 40


def resolve_response(rp: api.ResponsePolicy, field: str = "policy.response") -> api.ResponsePolicy:
    """A copy with the mode defaulted to CONVERSE; raises InvalidRequest naming a bad field."""
    if rp.mode not in api.ResponseMode.values():
        raise InvalidRequest(f"{field}.mode: unknown value {rp.mode}")
    if len(rp.wake_phrases) > MAX_WAKE_PHRASES:
        raise InvalidRequest(f"{field}.wake_phrases has {len(rp.wake_phrases)} phrases; the limit is "
                             f"{MAX_WAKE_PHRASES}")
    for phrase in rp.wake_phrases:
        if not any(c.isalnum() for c in phrase) or len(phrase) > MAX_WAKE_PHRASE_CHARS:
            raise InvalidRequest(f"{field}.wake_phrases: {phrase!r} must have a letter or digit and at most "
                                 f"{MAX_WAKE_PHRASE_CHARS} characters")
    if rp.max_sentences > instructions.MAX_SENTENCES_LIMIT:
        raise InvalidRequest(f"{field}.max_sentences is {rp.max_sentences}; the limit is "
                             f"{instructions.MAX_SENTENCES_LIMIT} (0: no limit)")
    out = api.ResponsePolicy()
    out.CopyFrom(rp)
    out.mode = rp.mode or api.RESPONSE_MODE_CONVERSE
    return out


def resolve(policy: decider_pb2.DeciderPolicy) -> ResolvedPolicy:
    return ResolvedPolicy(turn=resolve_turn(policy.turn_detection), sound=resolve_sound(policy.sound_policy),
                          response=resolve_response(policy.response))
