"""Caller-turn audio bookkeeping and the "what did the caller hear" computation."""
import pytest

from services.gateway.caller_audio import PRE_ROLL_S, RATE, CallerTurnAudio
from services.gateway.reply import SpokenClause, heard_text

pytestmark = pytest.mark.unit


def pcm(samples: int, value: int = 1) -> bytes:
    return value.to_bytes(2, "little", signed=True) * samples


def test_turn_keeps_pre_roll_and_pauses():
    audio = CallerTurnAudio()
    audio.append(pcm(RATE), 0)  # 1 s of silence before anyone speaks
    assert audio.speech_started(RATE + 800)
    audio.append(pcm(RATE), RATE)
    audio.speech_ended(RATE + 8000)
    assert not audio.speech_started(RATE + 12000)  # same turn: a pause, not a new turn
    turn = audio.turn_pcm()
    expected_start = RATE + 800 - int(PRE_ROLL_S * RATE)
    assert len(turn) // 2 == 2 * RATE - expected_start


def test_closing_a_turn_keeps_only_the_pre_roll():
    audio = CallerTurnAudio()
    audio.append(pcm(RATE), 0)
    audio.speech_started(100)
    audio.append(pcm(RATE), RATE)
    audio.close_turn()
    assert not audio.open
    assert audio.turn_pcm() == b""
    assert audio.speech_started(2 * RATE)
    assert len(audio.turn_pcm()) // 2 == int(PRE_ROLL_S * RATE)


def test_heard_text_cuts_inside_the_clause_being_played():
    clauses = [SpokenClause("Paris is the capital,", 0, 16000),
               SpokenClause("and it is lovely in spring.", 16000, 40000)]
    assert heard_text(clauses, 0) == ""
    assert heard_text(clauses, 16000) == "Paris is the capital,"
    assert heard_text(clauses, 28000) == "Paris is the capital, and it is"
    assert heard_text(clauses, 10**9) == "Paris is the capital, and it is lovely in spring."


def test_a_clause_that_never_got_audio_was_not_heard():
    # Its synthesis failed (or was cut) before the first piece: no samples carry it.
    assert heard_text([SpokenClause("Paris is the capital,", 0, 0)], 0) == ""
    assert heard_text([SpokenClause("Paris is", 0, 8000), SpokenClause("lovely.", 8000, 8000)], 8000) == "Paris is"
