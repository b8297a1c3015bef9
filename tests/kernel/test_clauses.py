"""ClauseSegmenter: where a streamed reply is cut into clauses for speech."""
import random

import pytest

from soundloop.clauses import ClauseSegmenter

pytestmark = pytest.mark.unit


def segment(text: str, **options) -> list[str]:
    segmenter = ClauseSegmenter(**options)
    return segmenter.push(text) + segmenter.flush()


def segment_streamed(deltas: list[str]) -> list[str]:
    segmenter = ClauseSegmenter()
    clauses = []
    for delta in deltas:
        clauses += segmenter.push(delta)
    return clauses + segmenter.flush()


@pytest.mark.parametrize("text, clauses", [
    ("Hello there. How are you? I'm fine!", ["Hello there.", "How are you?", "I'm fine!"]),
    # Not in numbers, abbreviations, dotted forms or initials.
    ("It costs 3.5 dollars. Okay?", ["It costs 3.5 dollars.", "Okay?"]),
    ("It costs $3.50. Anything else?", ["It costs $3.50.", "Anything else?"]),
    ("Dr. Smith will see you now. Please wait.", ["Dr. Smith will see you now.", "Please wait."]),
    ("Use a tool e.g. a fork or a knife.", ["Use a tool e.g. a fork or a knife."]),
    ("The U.S. economy grew at 5 p.m. today.", ["The U.S. economy grew at 5 p.m. today."]),
    ("J. R. R. Tolkien wrote it. Read it.", ["J. R. R. Tolkien wrote it.", "Read it."]),
    ("Mr. and Mrs. Jones are here.", ["Mr. and Mrs. Jones are here."]),
    ("Apples, pears etc. are fine.", ["Apples, pears etc. are fine."]),
    # Semicolons, colons, ellipses, closing quotes and brackets.
    ("First this; then that: done.", ["First this;", "then that:", "done."]),
    ("Meet at 10:30 today.", ["Meet at 10:30 today."]),
    ("Well... I think so.", ["Well...", "I think so."]),
    ('He said "stop." Then he left.', ['He said "stop."', "Then he left."]),
    ("It works (mostly.) Try it!", ["It works (mostly.)", "Try it!"]),
    ("Really?! No way.", ["Really?!", "No way."]),
    # Lines are clauses: lists and their markers stay with their item.
    ("Here is the list:\n- eggs\n- milk\n", ["Here is the list:", "- eggs", "- milk"]),
    ("1. Eggs\n2. Milk", ["1. Eggs", "2. Milk"]),
    # Commas: the first clause at 3 words, later ones at 4; never inside numbers.
    ("Yes of course, I can do that, and more.", ["Yes of course,", "I can do that,", "and more."]),
    ("Sure, I can help.", ["Sure, I can help."]),
    ("Okay. I can, maybe, do it.", ["Okay.", "I can, maybe, do it."]),
    ("We sold 1,000 units in the first week.", ["We sold 1,000 units in the first week."]),
    # Punctuation or emoji alone is spoken with the next clause, or dropped at the end.
    ("Okay! 😀 Great. 🎉", ["Okay!", "😀 Great."]),
    ("** ", []),
    ("", []),
])
def test_cuts(text, clauses):
    assert segment(text, **NATURAL_CUTS_ONLY) == clauses


# Turns off the early first-phrase cut, to test where punctuation cuts.
NATURAL_CUTS_ONLY = dict(first_phrase_words=99, first_max_words=30)


@pytest.mark.parametrize("text, clauses", [
    # Before a conjunction or preposition, once the first clause has three words.
    ("The capital of France is Paris and it is lovely.", ["The capital of France is Paris", "and it is lovely."]),
    ("It is about ten minutes from the station.", ["It is about ten minutes", "from the station."]),
    # Six words at most before the first cut; later clauses keep natural cuts.
    ("Photosynthesis turns light water and carbon dioxide into sugar.",
     ["Photosynthesis turns light water", "and carbon dioxide into sugar."]),
    ("Seven large brown dogs quickly chased three small cats into the yard.",
     ["Seven large brown dogs quickly chased", "three small cats into the yard."]),
    ("One two three four five six seven eight nine ten. Then eleven twelve thirteen and on.",
     ["One two three four five six", "seven eight nine ten.", "Then eleven twelve thirteen and on."]),
    # Short sentences are not cut; punctuation sooner than the phrase cut still wins.
    ("Paris is the capital.", ["Paris is the capital."]),
    ("Yes, of course, and more.", ["Yes, of course,", "and more."]),
    # A starter inside the first three words does not cut.
    ("Go to the second door on the left.", ["Go to the second door", "on the left."]),
])
def test_first_clause_is_cut_at_an_early_phrase_boundary(text, clauses):
    assert segment(text) == clauses


def test_a_phrase_cut_waits_for_the_whole_next_word():
    segmenter = ClauseSegmenter()
    assert segmenter.push("The capital of France is an") == []  # "an" or "and"?
    assert segmenter.push("d it ") == ["The capital of France is"]


def test_a_clause_comes_out_as_soon_as_the_space_after_it_arrives():
    segmenter = ClauseSegmenter()
    assert segmenter.push("Hello there.") == []  # "there.5"? the next character decides
    assert segmenter.push(" How") == ["Hello there."]
    assert segmenter.push(" are you") == []
    assert segmenter.push("? ") == ["How are you?"]
    assert segmenter.flush() == []


def test_waits_for_the_character_after_a_period_in_a_number():
    segmenter = ClauseSegmenter()
    assert segmenter.push("It costs 3.") == []
    assert segmenter.push("5 dollars") == []
    assert segmenter.push(". ") == ["It costs 3.5 dollars."]


def test_first_clause_is_cut_sooner_than_the_rest():
    assert segment("Yes, sure thing, I can do that.") == ["Yes, sure thing,", "I can do that."]
    assert segment("Okay. Yes, sure thing, I can do that and more.") == [
        "Okay.", "Yes, sure thing, I can do that and more."]
    assert segment("Okay. Yes, sure thing, I can do that.") == ["Okay.", "Yes, sure thing, I can do that."]
    assert segment("Yes, sure thing, I can do that.", first_comma_words=4, first_max_words=30,
                   first_phrase_words=99) == ["Yes, sure thing, I can do that."]


def test_flush_ends_the_reply_and_the_next_one_starts_fresh():
    segmenter = ClauseSegmenter()
    assert segmenter.push("Good idea, I think") == []  # 2 words: too short even for a first clause
    assert segmenter.flush() == ["Good idea, I think"]
    assert segmenter.push("Yes you can, of course. ") == ["Yes you can,", "of course."]


def test_reset_drops_the_interrupted_reply():
    segmenter = ClauseSegmenter()
    segmenter.push("This was going to be a long")
    segmenter.reset()
    assert segmenter.push("New reply. ") == ["New reply."]


def test_run_on_text_is_cut_at_the_word_limit():
    words = [f"word{i}" for i in range(70)]
    clauses = segment(" ".join(words) + ".")
    assert [len(c.split()) for c in clauses] == [6, 30, 30, 4]
    assert " ".join(clauses).split() == words[:-1] + [words[-1] + "."]


REPLY = ('Sure, here is what I found. Dr. Lee opens at 9 a.m.; the cost is $3.50, or 1,000 points. '
         'You could, e.g., call ahead... "Thanks!" she said.\n- Bring ID\n- Bring cash\n'
         'That is all: enjoy 😀! Next week, the weather should be warm, sunny, and calm, mostly')


def test_streamed_text_gives_the_same_clauses_however_it_is_split():
    offline = segment(REPLY)
    assert offline[:3] == ["Sure, here is what I found.", "Dr. Lee opens at 9 a.m.;", "the cost is $3.50,"]
    assert segment_streamed(list(REPLY)) == offline  # one character at a time
    rng = random.Random(7)
    for _ in range(50):
        cuts = sorted(rng.sample(range(1, len(REPLY)), rng.randint(1, 40)))
        deltas = [REPLY[a:b] for a, b in zip([0] + cuts, cuts + [len(REPLY)])]
        assert segment_streamed(deltas) == offline


def test_clauses_are_stripped_never_empty_and_keep_every_word():
    clauses = segment(REPLY)
    assert all(c and c == c.strip() for c in clauses)
    assert " ".join(clauses).split() == REPLY.split()


@pytest.mark.parametrize("text, clause, rest", [
    # After the last word that does not need the next one ("of", "is", "the" do).
    ("The capital of France is", "The capital of France", " is"),
    # Before a phrase starter rather than after a later word; at a comma first ("Sure," alone is a phrase).
    ("It's true that chicken has", "It's true", "that chicken has"),
    ("Sure, I can help", "Sure,", " I can help"),
    # Not yet: one word, or only words that need the next one; an unfinished word is not cut.
    ("The capital", None, "The capital"),
    ("Of the ", None, "Of the "),
    ("I think the answer is ", None, "I think the answer is "),  # not "I think the answer": wait for it
    ("Photosynthesis", None, "Photosynthesis"),
])
def test_cut_early_takes_the_words_so_far_up_to_a_phrase_boundary(text, clause, rest):
    segmenter = ClauseSegmenter()
    assert segmenter.push(text) == []
    assert segmenter.cut_early() == clause
    assert segmenter.started == (clause is not None)
    assert segmenter.flush() == [rest.strip()]


def test_after_an_early_cut_the_next_clause_is_cut_early_too_and_then_natural_cuts_resume():
    segmenter = ClauseSegmenter()
    segmenter.push("The capital of France ")
    assert segmenter.cut_early() == "The capital of France"
    assert segmenter.cut_early() is None  # only the first clause
    assert segmenter.push("is Paris, the largest city in the country by far, and ") == [
        "is Paris, the largest city", "in the country by far,"]
    assert segmenter.flush() == ["and"]
