"""The shipped turn model is what the training script makes from the committed features, and the
committed features are what the extraction makes from the corpus (first samples)."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

from services.decider import turn_model
from training.turn_taking import corpus, train
from training.turn_taking.evaluate import learned_probabilities

DATA = pathlib.Path(train.__file__).parent / "data"
TRAIN_FILES = sorted(DATA.glob("train-*.npz"))
SEED = 1


def _fixed_sequences() -> list[np.ndarray]:
    """Inputs the two models are compared on: validation sequences and random vectors."""
    data = np.load(DATA / "validation-seed2.npz")
    real = [f for f, _ in train.split_sequences(data)[:5]]
    rng = np.random.default_rng(0)
    return real + [rng.uniform(0, 1.5, (30, real[0].shape[1])).astype(np.float32)]


@pytest.mark.integration
def test_training_on_the_committed_features_reproduces_the_shipped_model(tmp_path):
    pytest.importorskip("torch", reason="training needs requirements/train.txt")
    sequences = [seq for path in TRAIN_FILES for seq in train.split_sequences(np.load(path))]
    model = train.train(sequences, SEED)
    out = tmp_path / "turn_taking.onnx"
    train.export(model, out)
    for seq in _fixed_sequences():
        np.testing.assert_allclose(learned_probabilities(out, seq), learned_probabilities(turn_model.MODEL_PATH, seq),
                                   atol=1e-4)


@pytest.mark.integration
def test_extraction_reproduces_the_committed_features_of_the_first_samples():
    from training.turn_taking.features import extract

    samples = corpus.build(seed=1, n_turns=600, n_over_reply=120, limit=3)
    fresh = extract(samples)
    committed = np.load(DATA / "train-seed1.npz")
    n = int(fresh["lengths"].sum())
    assert fresh["lengths"].tolist() == committed["lengths"][:3].tolist()
    np.testing.assert_array_equal(fresh["labels"], committed["labels"][:n])
    np.testing.assert_allclose(fresh["features"], committed["features"][:n], atol=1e-3)


def test_the_shipped_model_steps_in_the_decider_layout():
    model = turn_model.TurnModel()
    probs, hidden = model.step([], np.zeros(10, np.float32))
    assert probs.shape == (len(corpus.LABELS),) and abs(float(probs.sum()) - 1) < 1e-5
    assert len(hidden) == model.hidden_size == train.HIDDEN
