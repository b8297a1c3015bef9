"""The offline comparison's bookkeeping: what counts as a takeover, an answer, a short turn."""
from __future__ import annotations

import numpy as np
import pytest

from training.turn_taking import evaluate

pytestmark = pytest.mark.unit


def _data(texts: list[str], kinds: list[str], speech_end_s: list[float]) -> dict:
    n = len(texts)
    return {"texts": np.array(texts), "kinds": np.array(kinds), "speech_end_s": np.array(speech_end_s, np.float32),
            "reply_active": np.zeros(n, bool), "telephony": np.zeros(n, bool), "snr_db": np.full(n, -1.0, np.float32)}


def _fire_at(chunk: int, length: int = 40) -> np.ndarray:
    fire = np.zeros(length, bool)
    fire[chunk:] = True
    return fire


def test_short_whole_turns_are_reported_on_their_own():
    data = _data(["Not yet.", "What is the fastest way to get downtown?", "I am flying to Denver next week."],
                 ["complete", "complete", "trailing_word"], [1.0, 2.0, 3.0])
    # "Not yet." answered 1.5 s after its end; the long question 0.4 s after; the split turn taken over.
    rows = evaluate.outcomes([_fire_at(24), _fire_at(23), _fire_at(15)], data)
    report = evaluate.summary(rows)
    assert report["short_turns"] == {"n": 1, "success": 1.0, "decision_p50_ms": 1500}
    assert report["turn_success"] == 1.0 and report["pause_takeover"] == 1.0


def test_features_without_texts_report_no_short_turns():
    data = _data(["x"], ["complete"], [1.0])
    del data["texts"]
    assert evaluate.summary(evaluate.outcomes([_fire_at(12)], data))["short_turns"] is None
