"""What one Decide call concludes, before it becomes a DecideResponse."""
from __future__ import annotations

import dataclasses

from soundloop.encoder.v1 import encoder_pb2


@dataclasses.dataclass(frozen=True)
class Outcome:
    action: int  # soundloop.v1.Action
    reason: str
    confidence: float
    # Set when the end-of-turn probability was estimated for this call.
    end_of_turn_probability: float | None = None
    # For RESPOND_TO_SOUND; for RESPOND, a sound the answer to the caller also reacts to.
    sound: encoder_pb2.SoundTag | None = None
    # For RESPOND: most sentences in the reply (0: no limit).
    max_sentences: int = 0
    # For CHANGE_MODE: what to say to confirm it ("": nothing).
    confirmation: str = ""


def quote(text: str, limit: int = 40) -> str:
    """A transcript shortened for a decision reason."""
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[:limit - 3] + "...")
