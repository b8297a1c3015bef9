"""The sound bank (real event sounds from Debian packages) and the ears benchmark built on it."""
from __future__ import annotations

import collections

import numpy as np
import pytest

from bench import scenarios as corpus, sound_bank, sound_tagging, sources


@pytest.fixture(scope="module", autouse=True)
def bank():
    return sound_bank.fetch()  # a no-op once fetched (scripts/test.sh does it); checks every sha256


def test_catalogue_is_labelled_and_splits_share_no_recording():
    names = [s.name for s in sound_bank.SOUNDS]
    assert len(names) == len(set(names))
    assert {s.domain for s in sound_bank.SOUNDS} == set(sound_bank.DOMAINS)
    assert {s.split for s in sound_bank.SOUNDS} == set(sound_bank.SPLITS)
    digests = {split: {s.sha256 for s in sound_bank.select(split)} for split in sound_bank.SPLITS}
    assert all(len(s.sha256) == 64 for s in sound_bank.SOUNDS)
    assert not digests["tuning"] & digests["test"], "a recording is in both splits"
    for split in sound_bank.SPLITS:
        assert {s.domain for s in sound_bank.select(split, respond=False)} == set(sound_bank.DOMAINS), split
        assert len({s.domain for s in sound_bank.select(split, respond=True)}) >= 4, split
        assert len(sound_bank.select(split, respond=True)) >= 10, split


def test_sounds_load_as_trimmed_16k_clips():
    for s in sound_bank.SOUNDS:
        clip = sound_bank.audio(s.name)
        assert clip.dtype == np.float32 and 0.05 * sources.RATE < len(clip) <= sound_bank.MAX_SECONDS * sources.RATE
        assert np.isclose(np.abs(clip).max(), sound_bank.PEAK, atol=1e-3), s.name


def test_the_benchmark_sound_category_covers_domains_splits_and_noise():
    sounds = [s for s in corpus.build(seed=7) if s.category == "sound"]
    assert len(sounds) >= 80
    assert {s.sound_domain for s in sounds} == set(sound_bank.DOMAINS)
    by_split = collections.Counter((s.sound_split, s.expect) for s in sounds)
    assert all(by_split[(split, expect)] >= 20 for split in sound_bank.SPLITS
               for expect in ("sound_respond", "sound_ignore")), by_split
    assert {s.snr_db for s in sounds} >= {5.0, 10.0, 20.0}
    assert {s.sound.rsplit("/", 1)[1] for s in sounds} == set(corpus.SOUND_SETTINGS)
    assert any(s.telephony for s in sounds)
    assert {s.sound.split("/")[0] for s in sounds} == set(s.name for s in sound_bank.SOUNDS)


def test_noise_is_mixed_at_the_stated_snr():
    rng = np.random.default_rng(0)
    clip = sound_bank.audio("fd-alarm-clock")
    onset = int(sound_tagging.LEAD_S * sources.RATE)
    noisy = sound_tagging._hear(sound_bank.by_name("fd-alarm-clock"), "snr10", rng)
    noise = noisy[onset:onset + len(clip)] - clip
    active = clip[np.abs(clip) > 0.01 * np.abs(clip).max()]
    snr = 10 * np.log10(np.mean(active ** 2) / np.mean(noise ** 2))
    assert 9.0 < snr < 11.0
    assert np.mean(noisy[:onset] ** 2) > 0  # the noise is on the line before the sound too


def test_the_ears_react_to_an_alarm_and_let_a_cello_pass():
    outcomes = sound_tagging.evaluate((sound_bank.by_name("fd-alarm-clock"), sound_bank.by_name("tux-cello")),
                                      conditions=("quiet", "snr20"))
    alarm = [o for o in outcomes if o.sound == "fd-alarm-clock"]
    cello = [o for o in outcomes if o.sound == "tux-cello"]
    assert all(o.reacted and o.correct and o.latency_ms > 0 for o in alarm), alarm
    # The cello must pass in the quiet. In 20 dB noise YAMNet w8a8 hears mostly the noise, and whether
    # one window tips into a siren depends on the machine (the int8 kernels onnxruntime picks for the
    # CPU): it passed in earlier CI runs and reacted to a "Civil defense siren" on an AVX2-only EPYC. A
    # known kind of false alarm (README, Known limits), not a property of the pipeline to pin here.
    assert all(not o.reacted and o.correct for o in cello if o.condition == "quiet"), cello
    text = sound_tagging.table(outcomes)
    assert "### tuning split (2 sounds)" in text and "| quiet | 1.00 (1/1) | 1.00 (1/1) |" in text
