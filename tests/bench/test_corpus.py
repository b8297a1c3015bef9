"""The scenario corpus: size, coverage, reproducibility, and a fair Pipecat setup."""
from __future__ import annotations

import hashlib
import json
from collections import Counter

import numpy as np
import pytest

from bench import scenarios as corpus
from bench.systems import pipecat_system
from soundloop.settings import GatewaySettings


@pytest.fixture(scope="module")
def full():
    return corpus.build(seed=7)


def _digest(items: list[corpus.Scenario]) -> str:
    h = hashlib.sha256()
    for s in items:
        h.update(s.id.encode())
        h.update(np.round(s.audio, 4).tobytes())
    return h.hexdigest()


def test_corpus_covers_every_category_with_at_least_150_scenarios(full):
    counts = Counter(s.category for s in full)
    assert sum(counts.values()) >= 150
    assert set(counts) == set(corpus.COUNTS)
    assert len({s.id for s in full}) == len(full)
    assert any(s.real_speech for s in full) and any(s.telephony for s in full)
    assert any(s.snr_db is not None for s in full)
    assert {s.expect for s in full if s.category == "sound"} == {"sound_respond", "sound_ignore"}


def test_the_pause_category_has_60_turns_of_every_hard_kind_plus_real_recordings(full):
    pauses = [s for s in full if s.category == "pause"]
    kinds = Counter(s.pause_kind for s in pauses)
    assert sum(n for k, n in kinds.items() if k != "real_recording") >= 60
    assert set(kinds) == set(corpus.PAUSE_TURNS) | {"real_recording"}
    assert kinds["real_recording"] >= 10 and all(s.real_speech for s in pauses if s.pause_kind == "real_recording")
    assert any(s.telephony for s in pauses) and any(s.snr_db is not None for s in pauses)
    quick = {s.pause_kind for s in corpus.build(seed=7, quick=True) if s.category == "pause"}
    assert quick == set(kinds), "the quick run samples every kind"


def test_the_same_seed_builds_the_same_audio(full):
    corpus.sources._speak.cache_clear()  # synthesise every voice again, Piper's included
    assert _digest(corpus.build(seed=7)) == _digest(full)
    assert _digest(corpus.build(seed=8, quick=True)) != _digest(corpus.build(seed=7, quick=True))


def test_labels_fit_the_audio(full):
    for s in full:
        length = len(s.audio) / corpus.RATE
        if s.speech_end_s is not None:
            assert 0 < s.speech_end_s <= length + 1e-6, s.id
        if s.pause_s is not None:
            assert s.pause_s[0] < s.pause_s[1] <= s.speech_end_s, s.id
        if s.category in ("backchannel", "interruption"):
            assert s.overlay is not None and len(s.overlay) > 0, s.id


def test_pipecat_gets_soundloop_default_instructions():
    # A different system prompt would make the two systems answer different questions.
    assert GatewaySettings().default_instructions in pipecat_system.RUNNER.read_text().replace(
        '"\n    "', "")


def test_labels_survive_a_round_trip_through_results_json(full):
    # `bench.report --rescore` scores saved outcomes against these, without the audio.
    for s in full:
        again = corpus.Scenario.from_meta(json.loads(json.dumps(s.meta)))
        assert json.dumps(again.meta) == json.dumps(s.meta), s.id


@pytest.mark.integration
@pytest.mark.parametrize("voice", ["espeak:en-us", "espeak:en-gb"])
def test_the_benchmark_hums_are_hums_not_spelled_letters(voice):
    """Read as text, "mm-hm" comes out as the letters M, M, H, M: a caller spelling, not a backchannel."""
    from bench.sources import speak
    from services.decider.backchannel import is_backchannel
    from services.encoder.moonshine import MoonshineTranscriber
    from soundloop.models import model_path

    heard = MoonshineTranscriber(model_path("moonshine-tiny"), threads=1).transcribe(speak("mm-hm", voice), "en",
                                                                                     timestamps=False).text
    assert is_backchannel(heard), heard


def test_a_real_recording_ends_with_its_last_word_not_its_line_noise():
    rng = np.random.default_rng(0)
    rate = corpus.RATE
    words = [np.sin(2 * np.pi * 200 * np.arange(int(0.3 * rate)) / rate) * 0.5 for _ in range(3)]
    hiss = (rng.standard_normal(int(1.0 * rate)) * 0.02).astype(np.float32)  # ~-27 dB under the words
    gap = (rng.standard_normal(int(0.2 * rate)) * 0.02).astype(np.float32)
    clip = np.concatenate([words[0] + 0.02 * rng.standard_normal(words[0].size), gap, words[1], gap, words[2], hiss])
    kept = corpus.sources.trim_trailing_noise(clip.astype(np.float32))
    speech_end = clip.size - hiss.size
    assert speech_end <= kept.size <= speech_end + int(0.06 * rate)  # the last word and a 50 ms margin
    # The benchmark's noisiest recording (codec2's mmt1, 1.2 s of line noise after "well") ends at its word;
    # the clean ones (ALSA's, cut at the silence after the word already) lose nothing.
    real = {r.name: r.audio.size / rate for r in corpus.sources.recordings()}
    assert 2.6 < real["mmt1"] < 3.0
    assert all(1.1 < real[f"alsa_{name}"] < 1.45 for name in ("front_center", "front_left", "rear_left"))


def test_no_real_recording_ends_with_the_onset_of_a_next_word():
    """The scenarios take a clip's end as the end of speech. A cut a few tens of ms into the next
    sentence kept its first 80 ms after half a second of silence, so a reply after the last word
    counted as a takeover (7 Dickens clips, 2026-12-05). Every clip's last sound must be a word."""
    for rec in corpus.sources.recordings():
        loud = corpus.sources.loud_frames(rec.audio)
        runs = np.split(loud, np.nonzero(np.diff(loud) > 25)[0] + 1)  # split at gaps over 250 ms
        assert len(runs[-1]) * 10 >= 150, f"{rec.name} ends with a {len(runs[-1]) * 10} ms fragment"


def test_a_real_recording_cut_for_a_pause_brings_none_of_its_own_quiet_to_it():
    """The pause scenarios put a drawn 0.3-1.5 s of silence between the halves of a real recording.
    Cut inside the recording's own gap between sentences (Beckett's, 1.1 s), that gap came on top,
    and the caller paused up to 2.6 s: the halves must end and start at their words."""
    frame, margin = corpus.sources.FRAME, int(0.05 * corpus.RATE)
    for rec in corpus.sources.recordings():
        first, second = corpus.sources.halves_around_a_pause(rec.audio)
        end_a, start_c = first.size, rec.audio.size - second.size
        loud = corpus.sources.loud_frames(rec.audio) * frame
        assert not np.any((loud + frame > end_a) & (loud < start_c)), f"{rec.name} lost speech at the cut"
        last, next_ = loud[loud + frame <= end_a], loud[loud >= start_c]
        assert end_a - (last[-1] + frame) <= margin, f"{rec.name}'s first half ends in quiet"
        assert next_[0] - start_c <= margin, f"{rec.name}'s second half starts in quiet"
        assert start_c - end_a < rec.audio.size // 2
    beckett = next(r for r in corpus.sources.recordings() if r.name == "beckett")
    first, second = corpus.sources.halves_around_a_pause(beckett.audio)
    assert beckett.audio.size - first.size - second.size > 0.9 * corpus.RATE  # its own gap left out
