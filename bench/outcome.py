"""What a system under test did in one scenario, in one shape for every system.

All times are seconds since the first caller audio frame was sent (the caller's
real-time clock), so a scenario's labels (end of speech, pause, sound onset)
compare directly with when reply audio arrived.
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class ReplyTurn:
    first_audio_s: float
    last_audio_s: float
    text: str = ""
    interrupted: bool = False
    cause: str = ""  # "speech", "text", "sound"; "" when the system does not say
    prompt: str = ""  # what the system answered (transcript, sound label)
    heard_sound: str = ""  # a sound the answer to the caller's words also reacted to
    stages: dict[str, float] = dataclasses.field(default_factory=dict)  # per-stage seconds, system's own
    # How long a client that starts playing at the first piece of audio waits for later pieces (s);
    # None where the system does not report its audio piece by piece.
    stall_s: float | None = None


def playback_stall_s(pieces: list[tuple[float, float]]) -> float:
    """Silence inside a reply as a client hears it: it starts playing at the first piece's arrival and
    plays each piece, in order, as soon as it has it. `pieces`: (arrival s, duration s)."""
    stalled, played_until = 0.0, None
    for arrival, duration in pieces:
        if played_until is None:
            played_until = arrival
        elif arrival > played_until:
            stalled += arrival - played_until
            played_until = arrival
        played_until += duration
    return stalled


@dataclasses.dataclass
class Outcome:
    id: str
    system: str
    error: str | None = None
    unsupported: str | None = None  # the system has no way to do this scenario
    transcripts: list[str] = dataclasses.field(default_factory=list)  # final recognised caller text, in order
    turns: list[ReplyTurn] = dataclasses.field(default_factory=list)
    overlay_at: float | None = None
    call_s: float = 0.0  # length of the call (caller audio streamed), for CPU per audio second
    # Client-side waterfall of the first reply: when each milestone arrived (s, caller clock).
    milestones: dict[str, float] = dataclasses.field(default_factory=dict)
    sound_reactions: list[str] = dataclasses.field(default_factory=list)  # labels the system chose to react to
    answer: str = ""  # offline tasks

    @classmethod
    def from_json(cls, data: dict) -> Outcome:
        turns = [ReplyTurn(**t) for t in data.pop("turns", [])]
        return cls(turns=turns, **data)

    def as_json(self) -> dict:
        return dataclasses.asdict(self)
