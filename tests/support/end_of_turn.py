"""A scripted stand-in for the decider's end-of-turn LM: probabilities from a table.

The LM has its own tests (tests/decider/test_decider_eot_model.py); timelines and
orchestration tests need p_end values they can reason about.
"""
from __future__ import annotations


class ScriptedEstimator:
    def __init__(self, table: dict[str, float], default: float | None = 0.1):
        """`default` scores texts not in the table (the lagging partial transcripts); None forbids them."""
        self.table = table
        self.default = default
        self.calls: list[str] = []

    def probability(self, text: str) -> float:
        self.calls.append(text)
        if text in self.table:
            return self.table[text]
        if self.default is None:
            raise KeyError(f"no scripted end-of-turn probability for {text!r}")
        return self.default
