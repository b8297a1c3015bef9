"""The real end-of-turn estimator (SmolLM2-135M-Instruct on llama.cpp) on finished and unfinished turns."""
import statistics
import time

import pytest

from services.decider.end_of_turn import LlamaEndOfTurnEstimator, lm_text
from soundloop.settings import load_settings
from tests.decider.decider_eot_examples import FINISHED, HELD_OUT_FINISHED, HELD_OUT_UNFINISHED, UNFINISHED

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def estimator():
    return LlamaEndOfTurnEstimator.from_settings(load_settings(profile="light"))


def pairwise_order(finished: list[float], unfinished: list[float]) -> float:
    return statistics.mean(f > u for f in finished for u in unfinished)


@pytest.mark.parametrize("finished, unfinished", [(FINISHED, UNFINISHED), (HELD_OUT_FINISHED, HELD_OUT_UNFINISHED)],
                         ids=["calibration", "held-out"])
def test_separates_finished_from_unfinished_turns(estimator, finished, unfinished):
    p_finished = [estimator.probability(t) for t in finished]
    p_unfinished = [estimator.probability(t) for t in unfinished]
    for text, p in [*zip(finished, p_finished, strict=True), *zip(unfinished, p_unfinished, strict=True)]:
        print(f"{p:.2f}  {text}")
    assert statistics.mean(p_finished) > statistics.mean(p_unfinished) + 0.4
    assert pairwise_order(p_finished, p_unfinished) >= 0.8
    # At the medium-eagerness threshold, nearly every example lands on its side.
    right = sum(p >= 0.5 for p in p_finished) + sum(p < 0.5 for p in p_unfinished)
    assert right >= 0.85 * (len(finished) + len(unfinished))


def test_the_lm_alone_already_separates_them(estimator):
    finished = [estimator.log10_p_end(lm_text(t)) for t in FINISHED + HELD_OUT_FINISHED]
    unfinished = [estimator.log10_p_end(lm_text(t)) for t in UNFINISHED + HELD_OUT_UNFINISHED]
    assert pairwise_order(finished, unfinished) >= 0.9


def test_incremental_scoring_equals_scoring_from_scratch(estimator):
    # The KV cache keeps the common prefix of consecutive transcripts; the result must not depend on it.
    grown = [estimator.log10_p_end(t) for t in ("I would like", "I would like to book", "I would like to book a table")]
    estimator.log10_p_end("Something else entirely")
    assert estimator.log10_p_end("I would like to book a table") == pytest.approx(grown[-1], abs=0.02)
    estimator.log10_p_end("Something else entirely")
    assert estimator.log10_p_end("I would like to book") == pytest.approx(grown[1], abs=0.02)


def test_long_transcripts_are_scored_on_a_bounded_window(estimator):
    long = "I went to the store on Monday and bought apples, pears and some bread, " * 4 + "and then"
    start = time.perf_counter()
    p = estimator.probability(long)
    assert time.perf_counter() - start < 1.0
    assert p < 0.5
