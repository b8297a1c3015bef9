"""The third arm of the offline comparison (Smart Turn with silence, as Pipecat runs it): when it asks
the model, over which audio, and how its answers are scored beside the other arms.

The asking runs on corpus samples with the real Silero VAD and a recorder in place of Smart Turn
(the model is in no profile; `python -m training.turn_taking.smart_turn_arm` runs it)."""
from __future__ import annotations

import numpy as np
import pytest

from services.decider.turn_features import IN_SPEECH, SILENCE_S, SIZE
from training.turn_taking import corpus, evaluate, features, smart_turn_arm


class RecordingSmartTurn:
    """Stands in for Smart Turn: remembers how much audio each call got, answers `answer`."""

    def __init__(self, answer: float) -> None:
        self.answer, self.lengths = answer, []

    def probability(self, samples: np.ndarray) -> float:
        self.lengths.append(len(samples))
        return self.answer


@pytest.fixture(scope="module")
def vad():
    return features.encoder_vad()


@pytest.fixture(scope="module")
def split_turn() -> corpus.Sample:
    """A validation turn said in two parts (a pause of 0.2-2 s between them), over no reply."""
    samples = corpus.build(seed=2, n_turns=12, n_over_reply=0, part="validation", limit=12)
    return next(s for s in samples if s.kind != "complete" and not s.reply_active)


@pytest.mark.integration
def test_the_arm_asks_once_per_quiet_run_after_200_ms_of_silence_over_the_turn_so_far(vad, split_turn):
    model = RecordingSmartTurn(0.3)
    p = smart_turn_arm.probabilities(split_turn, model, vad)
    asked = np.flatnonzero(~np.isnan(p) & np.isnan(np.concatenate([[np.nan], p[:-1]])))
    # One ask per quiet run the VAD heard once the caller had started (the pause, the end): at least two.
    assert len(model.lengths) == len(asked) >= 2
    for chunk, length in zip(asked, model.lengths, strict=True):
        assert length <= (chunk + 1) * corpus.CHUNK  # the turn's audio up to the chunk it was asked on
    assert np.all(p[~np.isnan(p)] == np.float32(0.3))
    assert np.isnan(p[0])  # the lead silence, before the caller said anything, is not a turn
    assert model.lengths == sorted(model.lengths) and model.lengths[-1] > model.lengths[0]  # the turn so far


@pytest.mark.integration
def test_nothing_is_asked_over_a_reply(vad):
    sample = next(s for s in corpus.build(seed=2, n_turns=0, n_over_reply=4, part="validation") if s.reply_active)
    model = RecordingSmartTurn(0.9)
    assert np.isnan(smart_turn_arm.probabilities(sample, model, vad)).all() and not model.lengths


def _quiet_rows(silence_ms: list[int]) -> np.ndarray:
    rows = np.zeros((len(silence_ms), SIZE), np.float32)
    for i, ms in enumerate(silence_ms):
        rows[i, IN_SPEECH] = float(ms == 0)
        rows[i, SILENCE_S] = np.log1p(ms / 1000)
    return rows


@pytest.mark.unit
def test_a_complete_call_answers_at_once_and_an_incomplete_one_waits_for_max_silence():
    rows = _quiet_rows([0, 0, 100, 200, 300, 1700, 1800, 1900])
    asked_complete = np.array([np.nan] * 3 + [0.8] * 5, np.float32)
    asked_incomplete = np.array([np.nan] * 3 + [0.2] * 5, np.float32)
    assert np.flatnonzero(evaluate.smart_turn_respond(rows, asked_complete))[0] == 3
    assert np.flatnonzero(evaluate.smart_turn_respond(rows, asked_incomplete))[0] == 6


@pytest.mark.unit
def test_an_arm_computed_on_other_samples_is_refused():
    data = {"lengths": np.array([3, 4]), "texts": np.array(["a", "b"]), "reply_active": np.zeros(2, bool)}
    other = {"lengths": np.array([3, 5]), "texts": np.array(["a", "b"]), "smart_turn": np.zeros(8, np.float32)}
    with pytest.raises(SystemExit, match="other samples"):
        evaluate._smart_turn_fires([(np.zeros((3, SIZE)), None), (np.zeros((4, SIZE)), None)], data, other)
