"""Instructions that change the response policy: what is recognised, and what is not."""
import pytest

from soundloop import instructions
from soundloop.v1 import interaction_pb2 as pb

pytestmark = pytest.mark.unit

TRANSCRIBE, QUIET = pb.RESPONSE_MODE_TRANSCRIBE_ONLY, pb.RESPONSE_MODE_QUIET_UNTIL_ADDRESSED
SOUNDS, CONVERSE = pb.RESPONSE_MODE_SOUNDS_ONLY, pb.RESPONSE_MODE_CONVERSE


@pytest.mark.parametrize("text, mode", [
    ("Just transcribe from now on.", TRANSCRIBE),
    ("Can you please only transcribe what I say?", TRANSCRIBE),
    ("Switch to dictation.", TRANSCRIBE),
    ("Transcription mode.", TRANSCRIBE),
    ("Only transcribe what the caller says. Do not reply.", TRANSCRIBE),  # "do not reply" is part of it
    ("Stay quiet until I say Ada.", QUIET),
    ("Okay, please be silent for now.", QUIET),
    ("Please just listen and do not answer until I ask.", QUIET),
    ("Don't say anything unless I call you Max.", QUIET),
    ("Reply only when the caller asks you a direct question.", QUIET),
    ("Only speak up when you hear an alarm.", SOUNDS),
    ("Just listen for alarms.", SOUNDS),
    ("You can talk again.", CONVERSE),
    ("Okay, you can answer me now.", CONVERSE),
    ("Stop transcribing.", CONVERSE),
    ("Let's talk normally.", CONVERSE),
    # As recognizers write them (benchmark transcripts, Moonshine tiny).
    ("Just transcribed from now on.", TRANSCRIBE),
    ("Say quiet, and till I say computer.", QUIET),
    ("Please just listen and do my answer until I ask.", QUIET),
    ("\"'Just transcribed from now on.' The boy was there when the sun rose.", TRANSCRIBE),
])

def test_mode_instructions(text, mode):
    said = instructions.parse(text)
    assert said is not None and said.mode == mode


def test_content_before_and_after_a_mode_instruction():
    back = instructions.parse("The boy was there when the sun rose. You can talk again.")
    assert (back.mode, back.has_content, back.content_after) == (CONVERSE, True, False)
    asks = instructions.parse("You can talk again. What is two plus two?")
    assert (asks.has_content, asks.content_after) == (True, True)


@pytest.mark.parametrize("text", [
    "My kids won't stay quiet.", "I need help with one sentence in my essay.", "Tell me about trains.",
    "What is on my list?", "Did you transcribe the meeting yesterday?", "The alarm went off at six.",
    "Can you take notes?",  # a request that may want an answer: not enough to go silent
])
def test_talk_about_the_same_things_is_not_an_instruction(text):
    assert instructions.parse(text) is None


@pytest.mark.parametrize("text, wake", [
    ("Stay quiet until I say Ada.", ("ada",)),
    ("Stay quiet until you hear the word computer.", ("computer",)),
    ("Don't answer unless I say hey loop.", ("hey loop",)),
    ("Stay quiet until I say so.", ()),
    ("Say quiet, and till I say computer.", ("computer",)),
    ("Don't answer until I ask you a question.", ()),
])
def test_wake_phrases_come_from_the_instruction(text, wake):
    assert instructions.parse(text).wake_phrases == wake


@pytest.mark.parametrize("text, limit, lasting, content", [
    ("Answer in one sentence. Tell me about the history of Rome.", 1, False, True),
    ("In one sentence, what is the capital of France?", 1, False, True),
    ("Always answer in exactly one short sentence.", 1, True, False),
    ("From now on keep your answers to two sentences.", 2, True, False),
    ("Give me one-sentence answers.", 1, True, False),
    ("Answering one sentence, tell me about the history of Rome,", 1, False, True),
    ("Mancer in one sentence, tell me about the history of Rome.", 1, False, True),
    ("You can answer at length again.", 0, True, False),
])
def test_length_instructions(text, limit, lasting, content):
    said = instructions.parse(text)
    assert (said.max_sentences, said.lasting, said.has_content, said.mode) == (limit, lasting, content, None)


@pytest.mark.parametrize("text, addressed", [
    ("What is on my list?", True),
    ("what is on my list", True),  # a recognizer that drops the question mark
    ("Ada, add butter.", True),
    ("Remind me to call Bob.", True),
    ("I need eggs and milk.", False),
    ("Adam is coming at six.", False),  # the wake phrase is a whole word, not a prefix
])
def test_addressed(text, addressed):
    assert instructions.addressed(text, ["Ada"]) == addressed


def test_the_default_wake_phrase_is_assistant():
    assert instructions.addressed("Assistant, add jam.", []) and not instructions.addressed("Add jam.", [])


def test_session_instructions_fill_only_what_the_config_left_unset():
    from_text = instructions.session_response(pb.ResponsePolicy(), "You are a notary. Always answer in one sentence.")
    assert (from_text.mode, from_text.max_sentences) == (pb.RESPONSE_MODE_UNSPECIFIED, 1)
    explicit = instructions.session_response(pb.ResponsePolicy(mode=CONVERSE, max_sentences=3),
                                             "Only transcribe. Answer in one sentence.")
    assert (explicit.mode, explicit.max_sentences) == (CONVERSE, 3)


def test_confirmations_speak_only_where_speaking_fits_the_new_mode():
    converse, transcribe = pb.ResponsePolicy(mode=CONVERSE), pb.ResponsePolicy(mode=TRANSCRIBE)
    assert instructions.confirmation(converse, transcribe) == ""
    assert instructions.confirmation(transcribe, converse) == "Okay, I'm listening."
    assert instructions.confirmation(converse, pb.ResponsePolicy(mode=CONVERSE, max_sentences=2)) == (
        "Okay, I'll keep my answers to two sentences.")
