"""The learned turn-taking model at serve time: one ONNX step per 100 ms chunk.

Trained by training/turn_taking/ (its model card: services/decider/models/turn_taking.md).
The recurrent state travels in DeciderState.turn_model_hidden, so the decider stays
a pure function of (state, observation) and any replica can serve any chunk.
onnxruntime only: torch is a training dependency.
"""
from __future__ import annotations

import pathlib

import numpy as np
import onnxruntime as ort

from services.decider import turn_features
from soundloop.decider.v1 import decider_pb2

MODEL_PATH = pathlib.Path(__file__).parent / "models" / "turn_taking.onnx"
RESPOND, BACKCHANNEL, BARGE_IN = 1, 2, 3  # output order: training/turn_taking/corpus.LABELS


class TurnModel:
    def __init__(self, path: pathlib.Path = MODEL_PATH):
        options = ort.SessionOptions()
        # A step is ~2k multiply-adds: more threads would only add hand-off cost.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.hidden_size = int(self._session.get_inputs()[1].shape[-1])

    def step(self, hidden: list[float], features: np.ndarray) -> tuple[np.ndarray, list[float]]:
        """Class probabilities after this chunk, and the next recurrent state."""
        h = np.asarray(hidden, np.float32) if len(hidden) == self.hidden_size else np.zeros(self.hidden_size,
                                                                                            np.float32)
        probs, h = self._session.run(None, {"features": features[None, None, :],
                                            "hidden": h.reshape(1, 1, self.hidden_size)})
        return probs[0], h.reshape(-1).tolist()


def features(obs: decider_pb2.Observation, text_end_probability: float | None) -> np.ndarray:
    """The model's view of one chunk observation (see services/decider/turn_features.py)."""
    p = obs.prosody
    return turn_features.vector(
        in_speech=obs.in_speech, vad_probability=p.vad_probability, speech_ms=obs.speech_ms,
        silence_ms=obs.silence_ms, energy_db=p.energy_db, voiced=p.voiced, pitch_semitones=p.pitch_semitones,
        text_end_probability=text_end_probability, reply_active=obs.reply.active)
