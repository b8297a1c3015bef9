"""Backchannel recognition and the text cues of the end-of-turn estimate."""
import pytest

from services.decider.backchannel import is_backchannel, may_become_backchannel, too_weak_to_interrupt
from services.decider.end_of_turn import TextCues, combine, lm_text

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text", [
    "Mm-hmm.", "Mm-hm", "mhm", "Mmm.", "Hmm.", "Uh-huh.", "Uh huh", "Yeah.", "Yeah, yeah.", "Yes.", "Yep!",
    "Right.", "Okay.", "OK", "Sure.", "I see.", "Got it.", "Oh, okay.", "All right.", "Okay, sure.", "Mm-hmm, I see.",
    # Moonshine spells a flat "mm-hmm" out (flite's voice): "M. M. H. M. M.."; Whisper wrote "M-H-M".
    "M. M. H. M. M..", "M. H. M..", "M-H-M",
    # and "I see" as the letters I and C (espeak's en-gb voice, benchmark backchannel-017).
    "I. C.", "Oh, I. C.",
    # A term of address after an acknowledgement, as callers say to an agent.
    "Yes, sir.", "Okay, ma'am.", "Got it, sir.",
])
def test_backchannels(text):
    assert is_backchannel(text)


@pytest.mark.parametrize("text", [
    "", "...", "No.", "Wait.", "Stop.", "Yeah, but what about Tuesday?", "Okay, so what's the price?",
    "I see what you mean, but no.", "Yes yes yes yes yes yes.", "Sorry?", "Hello?", "U. S. A.", "A. B. C.",
    "Sir.", "Sir, wait.",
])
def test_not_backchannels(text):
    assert not is_backchannel(text)


def test_partial_transcripts_that_may_still_become_a_backchannel():
    assert may_become_backchannel("I")  # "I see"
    assert may_become_backchannel("Got")  # "Got it"
    assert may_become_backchannel("Yeah, I")
    assert not may_become_backchannel("I think")
    assert not may_become_backchannel("Wait")


# What Moonshine tiny made of hums in the benchmark ("mm-hm" -> "Literally.", "uh-huh" -> "Better.").
@pytest.mark.parametrize("text", ["Literally.", "Better.", "Man,", "Other.", "Tuesday."])
def test_one_word_that_is_no_cue_is_too_weak_to_interrupt(text):
    assert too_weak_to_interrupt(text)


# Two words without content: what Moonshine base made of hums ("You do.", "He, he.", "You know."), and
# what a listener says over a speaker ("I do.", "Me too.").
@pytest.mark.parametrize("text", ["You do.", "He, he.", "You know.", "I do.", "Me too.", "Ha ha!", "It is."])
def test_two_words_without_content_are_too_weak_to_interrupt(text):
    assert too_weak_to_interrupt(text)


# Content, a cue, a question, a demonstrative or a third word: the caller is taking the turn.
@pytest.mark.parametrize("text", [
    "Two tickets.", "Your heart.", "I can't.", "You do?", "That's it.", "This one.", "You know what",
    "I do not.", "Hey you.",
])
def test_two_words_with_content_or_a_cue_are_not_too_weak(text):
    assert not too_weak_to_interrupt(text)


@pytest.mark.parametrize("text", [
    "Wait.", "Stop.", "Quiet.", "Sorry", "Hello!", "Excuse me.", "No.", "Shhh.", "Hold on.", "Tuesday?",
    "What about Tuesday?", "Better not.", "",
])
def test_cues_questions_and_longer_words_are_not_too_weak(text):
    assert not too_weak_to_interrupt(text)


def test_the_assistants_name_is_a_cue():
    assert too_weak_to_interrupt("Computer.")
    assert not too_weak_to_interrupt("Computer.", names=["hey computer"])


@pytest.mark.parametrize("text, question, period, continuation", [
    ("What time is it?", True, False, False),
    ("Watch out!", True, False, False),
    ("Tell me a joke.", False, True, False),
    ("I would like to book", False, False, False),
    ("I would like to book a table for", False, False, True),
    ("So I went to the...", False, False, True),
    ("The thing is, um,", False, False, True),
    ("And then, um", False, False, True),
    ("My name is John and", False, False, True),
    ("What is it for?", True, False, False),  # a question may end on a preposition
    ("I need a taxi to the.", False, True, True),
    # Thinking aloud keeps the floor, however finished the words look.
    ("Hold on, let me see.", False, True, True),
    ("Um, let me think", False, False, True),
    ("Just a moment.", False, True, True),
    ("Bear with me.", False, True, True),
    ("What was it again?", False, False, True),  # asked of oneself: no cue to answer
    ("How do I put this?", False, False, True),
    ("Where was I?", False, False, True),
    ("Let me see the menu.", False, True, False),
    ("I will think about it.", False, True, False),
    ("Give me a minute.", False, True, True),
    ("It takes a minute.", False, True, False),  # a minute said, not asked for
    ("I heard a bang. What was it?", True, False, False),
    ("How do I put this on?", True, False, False),  # a real question about putting something on
    ("Where was I born?", True, False, False),
])
def test_text_cues(text, question, period, continuation):
    assert TextCues.of(text) == TextCues(question=question, period=period, continuation=continuation)


def test_lm_reads_the_words_without_trailing_punctuation():
    assert lm_text("  What time is it?  ") == "What time is it"
    assert lm_text("I would like to book...") == "I would like to book"
    assert lm_text("Well, okay.") == "Well, okay"


def test_combination_is_monotonic_in_every_cue():
    none = TextCues(False, False, False)
    assert combine(-1.0, none) > combine(-3.0, none)
    assert combine(-2.0, TextCues(True, False, False)) > combine(-2.0, TextCues(False, True, False)) \
        > combine(-2.0, none) > combine(-2.0, TextCues(False, False, True))
    assert combine(-2.0, none) == pytest.approx(0.5)
    # The LM's log-probability is clipped: a hopeless -20 counts as -6.
    assert combine(-20.0, none) == combine(-6.0, none)
