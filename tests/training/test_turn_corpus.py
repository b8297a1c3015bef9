"""The turn-taking training corpus never shares a sentence or a clip with the benchmark."""
from __future__ import annotations

import ast
import pathlib
import re

import numpy as np
import pytest

from bench import questions, scenarios
from bench.scoring import normalize
from training.turn_taking import corpus, sentences

pytestmark = pytest.mark.unit


def _literal_sentences(path: pathlib.Path) -> set[str]:
    """Every sentence of every string literal in a Python file."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out |= {s for part in re.split(r"(?<=[.!?])\s+", node.value) if (s := normalize(part))}
    return out


def _benchmark_text() -> tuple[set[str], str]:
    found = _literal_sentences(pathlib.Path(scenarios.__file__)) | _literal_sentences(pathlib.Path(questions.__file__))
    found |= {normalize(f"{a} {b}") for turns in scenarios.PAUSE_TURNS.values() for a, b in turns}
    found |= {normalize(q.text) for q in questions.QUESTIONS}
    return found, " | ".join(sorted(found))


def shared_with_benchmark(training: list[str]) -> list[str]:
    """Training sentences the benchmark also says: the same sentence, or a 4+ word part inside one."""
    bench, joined = _benchmark_text()
    shared = []
    for text in training:
        norm = normalize(text)
        if norm in bench or (len(norm.split()) >= 4 and f" {norm} " in f" {joined.replace(' | ', '  |  ')} "):
            shared.append(text)
    return shared


def test_no_training_sentence_is_in_the_benchmark():
    assert shared_with_benchmark(sentences.all_sentences()) == []


def test_the_check_catches_a_shared_sentence_and_a_shared_part():
    first, second = scenarios.PAUSE_TURNS["list"][0]
    assert shared_with_benchmark([f"{first} {second}", second, "a sentence nobody benchmarks here"]) == [
        f"{first} {second}", second]


def test_the_corpus_uses_synthetic_voices_only_and_labels_fit_the_audio():
    samples = corpus.build(seed=3, n_turns=6, n_over_reply=3)
    assert len(samples) == 9
    for s in samples:
        assert s.voice in corpus.VOICES, "real recordings are for validation only"
        assert len(s.audio) == len(s.labels) * corpus.CHUNK
        assert np.isfinite(s.audio).all() and np.abs(s.audio).max() <= 1.0
        end_chunk = int(s.speech_end_s * corpus.RATE) // corpus.CHUNK
        if s.reply_active:
            assert corpus.RESPOND not in s.labels and set(s.labels[end_chunk:]) <= {corpus.BACKCHANNEL, corpus.BARGE_IN}
        else:
            assert set(s.labels[:end_chunk]) == {corpus.KEEP} and set(s.labels[end_chunk:]) == {corpus.RESPOND}


def test_the_same_seed_builds_the_same_corpus():
    a, b = (corpus.build(seed=5, n_turns=3, n_over_reply=1) for _ in range(2))
    assert [(s.text, s.voice) for s in a] == [(s.text, s.voice) for s in b]
    assert all(np.array_equal(x.audio, y.audio) and np.array_equal(x.labels, y.labels) for x, y in zip(a, b))


def test_short_answers_are_whole_turns_the_model_is_not_trained_on():
    trained = {t.text for t in sentences.complete_turns() + sentences.split_turns()}
    assert not trained & set(sentences.SHORT_ANSWERS)
    samples = corpus.short_answers(seed=4, limit=3)
    assert [s.voice for s in samples] == list(corpus.VOICES[:3])
    for s in samples:
        assert s.text == sentences.SHORT_ANSWERS[0] and not s.reply_active
        end_chunk = int(s.speech_end_s * corpus.RATE) // corpus.CHUNK
        assert set(s.labels[:end_chunk]) == {corpus.KEEP} and set(s.labels[end_chunk:]) == {corpus.RESPOND}
