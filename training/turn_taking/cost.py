"""CPU cost of the decider per chunk: the turn policy with the learned model against the rules.

Replays the held-out feature sequences as decider observations (the end-of-turn LM's
score is already in the state, as the stage caches it) and times `turn_policy.decide`
per chunk, in one thread; reports median and p95 in microseconds for both policies,
measured in the same invocation, interleaved.

    python -m training.turn_taking.cost
"""
from __future__ import annotations

import json
import pathlib
import time

import numpy as np

from services.decider import turn_model, turn_policy
from soundloop.decider.v1 import decider_pb2
from soundloop.v1 import interaction_pb2 as api
from training.turn_taking.train import split_sequences

DATA = pathlib.Path(__file__).parent / "data" / "validation-seed2.npz"


class _CachedScore:
    """The stage scores a transcript once and caches it in the state; here it is always cached."""

    def probability(self, text: str) -> float:
        raise AssertionError("the score comes from the state")


def _observations(features: np.ndarray) -> list[tuple[decider_pb2.Observation, float | None]]:
    out = []
    for i, f in enumerate(features):
        obs = decider_pb2.Observation(now_ms=(i + 1) * 100, in_speech=bool(f[0]),
                                      speech_ms=int(np.expm1(f[2]) * 1000), silence_ms=int(np.expm1(f[3]) * 1000))
        obs.prosody.vad_probability, obs.prosody.energy_db = float(f[1]), float(f[4] * 90 - 90)
        obs.prosody.voiced, obs.prosody.pitch_semitones = float(f[5]), float(f[6] * 12)
        p_end = float(f[8]) if f[7] else None
        if p_end is not None:
            obs.transcript, obs.transcript_is_final, obs.utterance = "a transcript", True, 1
        out.append((obs, p_end))
    return out


def measure(model: turn_model.TurnModel, sequences: list[np.ndarray]) -> dict[str, dict]:
    estimator = _CachedScore()
    times: dict[str, list[float]] = {"rules": [], "learned": []}
    policies = {"rules": api.TURN_MODEL_RULES, "learned": api.TURN_MODEL_LEARNED}
    for features in sequences:
        states = {name: decider_pb2.DeciderState() for name in policies}
        for obs, p_end in _observations(features):
            for name, which in policies.items():
                state = states[name]
                if p_end is not None:
                    state.eot_text, state.eot_probability = "a transcript", p_end
                policy = decider_pb2.DeciderPolicy(turn_detection=api.TurnDetection(model=which))
                t0 = time.perf_counter()
                response = turn_policy.decide(state, obs, policy, estimator, model)
                times[name].append(time.perf_counter() - t0)
                states[name] = response.state
                if response.decision.action == api.ACTION_RESPOND:
                    states[name].answered_utterance = 0  # keep deciding on the same turn
    return {name: {"chunks": len(ts), "p50_us": round(float(np.percentile(ts, 50)) * 1e6, 1),
                   "p95_us": round(float(np.percentile(ts, 95)) * 1e6, 1)} for name, ts in times.items()}


def main() -> None:
    sequences = [f for f, _ in split_sequences(np.load(DATA))][:60]
    print(json.dumps(measure(turn_model.TurnModel(), sequences), indent=1))


if __name__ == "__main__":
    main()
