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


def _text_arrives(shift: int) -> list[tuple[float, float]]:
    """(has_text, text_end_probability) per chunk after shifting: speech, 4 quiet chunks with the
    transcript from the third, speech again."""
    rows = np.zeros((8, train.turn_features.SIZE), np.float32)
    rows[[0, 1, 7], train.IN_SPEECH] = 1.0
    rows[4:7, train.HAS_TEXT], rows[4:7, train.TEXT_P] = 1.0, 0.8
    out = train.shift_text(rows, shift)
    return [(float(h), round(float(p), 2)) for h, p in zip(out[:, train.HAS_TEXT], out[:, train.TEXT_P], strict=True)]


@pytest.mark.unit
def test_text_arrival_shifts_later_and_earlier_but_never_across_speech():
    none, text = (0.0, 0.0), (1.0, 0.8)
    assert _text_arrives(0) == [none] * 4 + [text] * 3 + [none]
    assert _text_arrives(2) == [none] * 6 + [text] + [none]
    assert _text_arrives(5) == [none] * 8  # later than the pause lasts: never seen
    assert _text_arrives(-1) == [none] * 3 + [text] * 4 + [none]
    assert _text_arrives(-4) == [none] * 2 + [text] * 5 + [none]  # back to the end of speech, not into it
