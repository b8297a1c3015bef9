"""Whether the decider's last decision still holds, so the next chunk need not cross to it.

The decider says how long a decision holds while nothing new is observed
(DecideResponse.stable_until_ms): on a quiet line, while a reply plays with no
one talking over it, or in a pause before the silence reaches the next
threshold. Most chunks of a call are like that, and each decide call is a
process (and, under Ray Serve, a handle) boundary crossed ten times a second per
caller; skipping those halves the gateway's stage calls per chunk.
"""
from __future__ import annotations

from soundloop.decider.v1 import decider_pb2


def news(obs: decider_pb2.Observation) -> tuple:
    """What an observation shows besides the passing of time."""
    return (obs.in_speech, obs.transcript, obs.transcript_is_final, obs.utterance, obs.reply.SerializeToString(),
            obs.text_input, len(obs.boundaries), len(obs.sound_tags))


class DecisionHold:
    def __init__(self) -> None:
        self._news: tuple | None = None
        self._until = 0
        self.decision: decider_pb2.DecideResponse | None = None
        self.skipped = 0  # decide calls saved, for the log

    def holds_for(self, obs: decider_pb2.Observation) -> bool:
        """True if the last decision is still the decider's answer to `obs`."""
        if self.decision is None or self._until == 0 or obs.boundaries or obs.sound_tags or obs.text_input:
            return False
        if news(obs) != self._news or (self._until > 0 and obs.now_ms >= self._until):
            return False
        self.skipped += 1
        return True

    def decided(self, obs: decider_pb2.Observation, response: decider_pb2.DecideResponse) -> None:
        self.decision, self._news, self._until = response, news(obs), response.stable_until_ms

    def forget(self) -> None:
        """Something the decider does not see changed (e.g. a turn was closed): ask next time."""
        self.decision, self._until = None, 0
