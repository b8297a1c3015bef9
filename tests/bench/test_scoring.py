"""The benchmark's metric definitions, on hand-made outcomes with known answers."""
from __future__ import annotations

import numpy as np
import pytest

from bench.outcome import Outcome, ReplyTurn, playback_stall_s
from bench.scenarios import Scenario
from bench.scoring import normalize, score, turn_latencies_ms

SILENCE = np.zeros(16000, np.float32)


def scenario(id_: str, category: str, expect: str, **kw) -> Scenario:
    return Scenario(id_, category, expect, SILENCE, **kw)


def turn(first: float, last: float | None = None, **kw) -> ReplyTurn:
    return ReplyTurn(first, first + 2.0 if last is None else last, **kw)


def categories(scenarios, outcomes) -> dict:
    return score(scenarios, outcomes)["categories"]


def test_normalize_makes_numbers_and_punctuation_comparable():
    assert normalize("A week is 7 days.") == "a week is seven days"
    assert normalize("It's easy -- to tell!") == "its easy to tell"


def test_pause_takeover_is_a_reply_before_the_caller_finished():
    scenarios = [scenario("p1", "pause", "hold_then_respond", speech_end_s=3.0, pause_s=(1.0, 2.0)),
                 scenario("p2", "pause", "hold_then_respond", speech_end_s=3.0, pause_s=(1.0, 2.0))]
    outcomes = [Outcome("p1", "x", turns=[turn(2.5), turn(6.0)]), Outcome("p2", "x", turns=[turn(3.8)])]
    pause = categories(scenarios, outcomes)["pause"]
    assert pause["takeover"] == {"n": 2, "rate": 0.5}
    assert pause["answered_after_pause"]["rate"] == 0.5  # the takeover does not count as an answer
    assert pause["latency"]["p50_ms"] == 800.0


def test_pause_takeover_is_broken_down_by_kind_voice_and_line():
    scenarios = [scenario("p1", "pause", "hold_then_respond", speech_end_s=3.0, pause_s=(1.0, 2.0),
                          pause_kind="list", telephony=True),
                 scenario("p2", "pause", "hold_then_respond", speech_end_s=3.0, pause_s=(1.0, 2.0),
                          pause_kind="real_recording", real_speech=True, snr_db=10.0),
                 scenario("p3", "pause", "hold_then_respond", speech_end_s=3.0, pause_s=(1.0, 2.0),
                          pause_kind="list")]
    outcomes = [Outcome("p1", "x", turns=[turn(2.5)]), Outcome("p2", "x", turns=[turn(3.5)]),
                Outcome("p3", "x", turns=[turn(3.4)])]
    pause = categories(scenarios, outcomes)["pause"]
    assert pause["takeover_by_kind"] == {"list": {"n": 2, "rate": 0.5}, "real_recording": {"n": 1, "rate": 0.0}}
    assert pause["takeover_8k_mulaw"] == {"n": 1, "rate": 1.0}
    assert pause["takeover_real_speech"] == {"n": 1, "rate": 0.0}
    assert pause["takeover_noisy"] == {"n": 1, "rate": 0.0}


def test_turn_taking_latency_and_the_reply_window():
    scenarios = [scenario(f"t{i}", "turn_taking", "respond", speech_end_s=2.0, telephony=i == 0)
                 for i in range(3)]
    outcomes = [Outcome("t0", "x", turns=[turn(2.6)]), Outcome("t1", "x", turns=[turn(2.9)]),
                Outcome("t2", "x", turns=[turn(7.5)])]  # 5.5 s: outside the 5 s window, a miss
    tt = categories(scenarios, outcomes)["turn_taking"]
    assert tt["success"] == {"n": 3, "rate": 0.667}
    assert tt["latency_8k_mulaw"]["p50_ms"] == 600.0
    assert turn_latencies_ms(scenarios, outcomes) == [600.0, 900.0]


def test_playback_stall_is_the_wait_for_late_pieces_once_playing():
    assert playback_stall_s([]) == 0.0
    # Paced ahead of playback: never waits.
    assert playback_stall_s([(1.0, 0.5), (1.3, 0.5), (1.8, 0.5)]) == 0.0
    # The second clause comes 0.3 s after the first ran out, the third in time after that.
    assert playback_stall_s([(1.0, 0.5), (1.8, 0.5), (2.2, 0.2)]) == pytest.approx(0.3)


def test_turn_taking_reply_stalls_count_the_first_answer_only():
    scenarios = [scenario(f"t{i}", "turn_taking", "respond", speech_end_s=2.0) for i in range(3)]
    outcomes = [Outcome("t0", "x", turns=[turn(2.6, stall_s=0.0)]),
                Outcome("t1", "x", turns=[turn(1.0, stall_s=0.9), turn(2.9, stall_s=0.25)]),
                Outcome("t2", "x", turns=[turn(2.5)])]  # a system that does not report pieces
    tt = categories(scenarios, outcomes)["turn_taking"]
    assert tt["reply_stall"]["n"] == 2 and tt["reply_stall"]["p50_ms"] == 125.0
    assert tt["replies_stalled"] == {"n": 2, "rate": 0.5}


def test_backchannel_false_stop_and_barge_in_stop_latency():
    bc = scenario("b", "backchannel", "keep_speaking", speech_end_s=2.0)
    cut = scenario("i", "interruption", "stop_and_answer", speech_end_s=2.0, overlay=np.zeros(16000, np.float32),
                   overlay_keywords="time in london")
    outcomes = [Outcome("b", "x", overlay_at=4.0, turns=[turn(3.0, 9.0, interrupted=True)]),
                Outcome("i", "x", overlay_at=4.0, transcripts=["tell me a story", "what is the time in london"],
                        turns=[turn(3.0, 4.15, interrupted=True), turn(6.0, prompt="What is the time in London?")])]
    cats = categories([bc, cut], outcomes)
    assert cats["backchannel"]["false_stop"]["rate"] == 1.0
    assert cats["interruption"]["barge_in_success"]["rate"] == 1.0
    assert cats["interruption"]["stop_latency"]["p50_ms"] == 150.0
    assert cats["interruption"]["answered_new_content"]["rate"] == 1.0
    assert cats["interruption"]["new_answer_latency"]["p50_ms"] == 1000.0  # overlay ends at 5.0 s


def test_a_reply_that_plays_on_is_no_barge_in():
    cut = scenario("i", "interruption", "stop_and_answer", speech_end_s=2.0, overlay=np.zeros(8000, np.float32),
                   overlay_keywords="trains")
    outcomes = [Outcome("i", "naive", overlay_at=4.0, turns=[turn(3.0, 30.0), turn(31.0, prompt="trains")])]
    interruption = categories([cut], outcomes)["interruption"]
    assert interruption["barge_in_success"]["rate"] == 0.0
    assert interruption["stop_latency"] == {"n": 0}


def test_a_short_interruption_counts_when_the_reply_under_it_stopped():
    waits = [scenario(f"w{i}", "short_interruption", "stop", speech_end_s=2.0, overlay=np.zeros(8000, np.float32))
             for i in range(2)]
    outcomes = [Outcome("w0", "x", overlay_at=4.0, turns=[turn(3.0, 4.2, interrupted=True)]),
                Outcome("w1", "x", overlay_at=4.0, turns=[turn(3.0, 30.0)])]  # played on: "Wait." ignored
    short = categories(waits, outcomes)["short_interruption"]
    assert short["stopped"]["rate"] == 0.5
    assert short["stop_latency"]["p50_ms"] == 200.0


def test_proactive_accuracy_uses_the_turn_cause_or_extra_replies():
    alarm = scenario("s1", "sound", "sound_respond", sound="alarm/alone", sound_onset_s=0.4)
    shutter = scenario("s2", "sound", "sound_ignore", sound="camera-shutter/under_speech", sound_onset_s=0.4,
                       speech_end_s=2.0)
    ours = [Outcome("s1", "soundloop", turns=[turn(1.5, cause="sound")]),
            Outcome("s2", "soundloop", turns=[turn(2.8, cause="speech")])]
    sound = categories([alarm, shutter], ours)["sound"]
    assert sound["accuracy"]["rate"] == 1.0
    assert sound["onset_to_reaction_audio"]["p50_ms"] == 1100.0
    # A system that gives no causes: one reply per spoken question is expected, more is a reaction.
    theirs = [Outcome("s1", "pipecat"), Outcome("s2", "pipecat", turns=[turn(2.8), turn(6.0)])]
    assert categories([alarm, shutter], theirs)["sound"]["accuracy"]["rate"] == 0.0


def test_instruction_compliance():
    one = scenario("o", "instruction", "one_sentence", speech_end_s=2.0, voice="v/spoken")
    transcribe = scenario("t", "instruction", "transcribe_only", speech_end_s=6.0, quiet_until_s=4.0,
                          reference="Just transcribe from now on. The birch canoe slid on the smooth planks.",
                          voice="v/spoken")
    quiet = scenario("q", "instruction", "quiet_until_asked", speech_end_s=9.0, quiet_until_s=7.5, voice="v/typed")
    outcomes = [Outcome("o", "x", turns=[turn(2.5, text="Rome was founded in 753 BC. It grew into an empire.")]),
                # A spoken confirmation of the mode change is no reply; the transcripts are right.
                Outcome("t", "x", turns=[turn(2.5, cause="instruction")],
                        transcripts=["Just transcribe from now on.", "The birch canoe slid on the smooth planks."]),
                Outcome("q", "x", turns=[turn(9.6)])]
    instruction = categories([one, transcribe, quiet], outcomes)["instruction"]
    assert instruction["one_sentence"]["rate"] == 0.0
    assert instruction["transcribe_only"]["rate"] == 1.0
    assert instruction["quiet_until_asked"]["rate"] == 1.0
    assert instruction["by_channel"]["spoken"]["rate"] == 0.5
    assert instruction["transcribe_only_wer"]["wer"] == 0.0
    # Answering what should only be transcribed, or talking before being asked, fails.
    echoed = Outcome("t", "x", turns=[turn(6.5, text="The birch canoe.")], transcripts=outcomes[1].transcripts)
    early = Outcome("q", "x", turns=[turn(5.0), turn(9.6)])
    again = categories([transcribe, quiet], [echoed, early])["instruction"]
    assert again["transcribe_only"]["rate"] == 0.0 and again["quiet_until_asked"]["rate"] == 0.0


def test_wer_is_split_by_real_and_synthetic_speech():
    real = scenario("r", "turn_taking", "respond", speech_end_s=1.0, real_speech=True,
                    reference="The big dog loved to chew on the old rag doll.")
    synthetic = scenario("s", "turn_taking", "respond", speech_end_s=1.0, reference="How many legs does a spider have?")
    outcomes = [Outcome("r", "x", transcripts=["The big dog left it to you on the old ragdoll."]),
                Outcome("s", "x", transcripts=["How many legs does a spider have?"])]
    asr = categories([real, synthetic], outcomes)["asr"]
    assert asr["wer_synthetic"]["wer"] == 0.0
    assert 0.3 < asr["wer_real"]["wer"] < 0.7
