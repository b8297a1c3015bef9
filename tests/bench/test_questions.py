"""The spoken question set and its keyword scorer; one short run of the real light LLM."""
from __future__ import annotations

import ast
import pathlib
import re

import pytest

from bench import reply_accuracy, scenarios
from bench.questions import QUESTIONS
from bench.reply_accuracy import is_right, keyword_hits
from bench.scoring import normalize

BY_ID = {q.id: q for q in QUESTIONS}


def _sentences(text: str) -> set[str]:
    return {s for part in re.split(r"(?<=[.!?])\s+", text) if (s := normalize(part))}


def _scenario_sentences() -> set[str]:
    """Every sentence of every string literal in bench/scenarios.py (questions, prompts, instructions)."""
    tree = ast.parse(pathlib.Path(scenarios.__file__).read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out |= _sentences(node.value)
    # The two-part turns are also said whole.
    out |= {normalize(f"{a} {b}") for turns in scenarios.PAUSE_TURNS.values() for a, b in turns}
    return out


@pytest.mark.unit
def test_the_set_is_big_enough_and_well_formed():
    assert len(QUESTIONS) >= 48
    assert len(BY_ID) == len(QUESTIONS), "question ids repeat"
    assert len({normalize(q.text) for q in QUESTIONS}) == len(QUESTIONS), "question texts repeat"
    for q in QUESTIONS:
        assert q.text.strip() and q.category
        assert q.keywords, q.id
        for group in q.keywords:
            assert group and all(normalize(alt) for alt in group), (q.id, group)
    assert len({q.category for q in QUESTIONS}) >= 6


@pytest.mark.unit
def test_no_question_shares_a_sentence_with_the_scenarios():
    scenario = _scenario_sentences()
    assert "what is the capital of france" in scenario  # the extraction sees the corpus
    shared = {q.id: s for q in QUESTIONS for s in _sentences(q.text) if s in scenario}
    assert not shared


@pytest.mark.unit
@pytest.mark.parametrize(("qid", "reply", "right"), [
    ("geo-japan", "The capital of Japan is Tokyo.", True),
    ("geo-japan", "The capital of Japan is Kyoto.", False),
    ("math-times", "Seven times eight is 56.", True),
    ("math-times", "Seven times eight is fifty-six.", True),
    ("math-times", "Seven times eight is forty-eight.", False),
    ("math-percent", "Ten percent of two hundred is 20.", True),
    ("math-percent", "That would be twenty-five.", False),  # "twenty" inside a longer number
    ("unit-grams", "There are 1,000 grams in a kilogram.", True),
    ("unit-cm", "There are two hundred centimeters in a meter.", False),
    ("sci-bones", "An adult has two hundred and six bones.", True),
    ("cs-owe", "You still owe $15.00.", True),
    ("cs-owe", "You owe twenty five dollars.", False),
    ("cs-emergency", "Please call 9-1-1 right away.", True),
    ("gk-mona-lisa", "It was painted by Leonardo da Vinci.", True),
    ("gk-mona-lisa", "Michelangelo painted it.", False),
    ("sci-co2", "Plants take in CO2.", True),
    ("cs-delivery", "", False),
])
def test_keyword_scorer(qid, reply, right):
    assert is_right(BY_ID[qid], reply) is right


@pytest.mark.unit
def test_keyword_hits_are_per_group():
    assert keyword_hits((("paris",), ("seven", "7")), "Paris, and 7 more.") == [True, True]
    assert keyword_hits((("paris",), ("seven", "7")), "Paris has seventy.") == [True, False]
    assert keyword_hits((("paris",),), "comparison") == [False]  # whole words only


@pytest.mark.integration
async def test_light_llm_answers_through_the_real_stage():
    """3 questions through SmolLM2-135M (the light profile's LLM): the result's shape, not its quality."""
    questions = [BY_ID["geo-japan"], BY_ID["math-times"], BY_ID["geo-japan"]]
    result = await reply_accuracy.measure(questions, ["smollm2-135m"], verbose=False)
    assert result["mode"] == "text" and result["questions"] == 3
    run = result["llms"]["smollm2-135m"]
    assert run["settings"]["model"] == "smollm2-135m" and run["settings"]["seed"] == reply_accuracy.DEFAULT_SEED
    assert [a["id"] for a in run["answers"]] == ["geo-japan", "math-times", "geo-japan"]
    # The seed is set before every question: the same question gets the same reply.
    assert run["answers"][0]["reply"] == run["answers"][2]["reply"]
    for answer in run["answers"]:
        assert answer["reply"].strip() and answer["ttft_s"] > 0 and answer["completion_tokens"] > 0
        assert answer["right"] == is_right(BY_ID[answer["id"]], answer["reply"])
        assert answer["prompt"] == BY_ID[answer["id"]].text
    summary = run["summary"]
    assert summary["accuracy"]["n"] == 3 and 0 <= summary["accuracy"]["rate"] <= 1
    assert summary["ttft"]["n"] == 3 and summary["ttft"]["p50_ms"] > 0
    assert summary["reply_words_p50"] > 0
    assert "accuracy" in reply_accuracy.table(result)
