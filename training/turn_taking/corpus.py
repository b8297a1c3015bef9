"""The turn-taking training corpus: caller audio with a label per 100 ms chunk, at a fixed seed.

Each sample is one caller turn on a timeline of lead silence, speech (with a pause
inside for split turns) and trailing silence, or a backchannel or barge-in said over
a reply. Voices vary by engine (flite, espeak-ng variants, Piper), by speed and pitch
(resampling by 0.88-1.12, as a tape played fast or slow), by line (a third go through
8 kHz G.711 mu-law and back) and by noise (synthetic coloured noise at 20, 10 or 5 dB
SNR). No recording of a real person is used: those are kept for validation.

Labels per chunk (LABELS): keep_listening while the caller speaks or pauses mid-turn;
respond from the chunk where a finished turn's speech ends; backchannel over a reply
once a backchannel starts; barge_in over a reply from 0.5 s into real content (before
that a barge-in and a backchannel sound alike).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from bench.sources import speak
from soundloop.audio import codec
from training.turn_taking import sentences

RATE = codec.MODEL_RATE
CHUNK = RATE // 10  # 100 ms, the gateway's chunk
LABELS = ("keep_listening", "respond", "backchannel", "barge_in")
KEEP, RESPOND, BACKCHANNEL, BARGE_IN = range(len(LABELS))
VOICES = ("slt", "rms", "awb", "kal16", "espeak:en-us", "espeak:en-gb", "espeak:en-us+f3", "espeak:en-gb+m3",
          "espeak:en-us+f4", "piper:joe")
SNRS = (None, None, 20.0, 10.0, 5.0)
BARGE_IN_AFTER_S = 0.5


@dataclasses.dataclass
class Sample:
    kind: str  # a sentences kind, "backchannel" or "barge_in"
    text: str
    voice: str
    audio: np.ndarray  # 16 kHz float32, a whole number of chunks
    labels: np.ndarray  # int8 per chunk
    reply_active: bool  # said over a reply
    telephony: bool
    snr_db: float | None
    speech_end_s: float


def _perturb(audio: np.ndarray, factor: float) -> np.ndarray:
    """Speed and pitch together, by `factor` (resampling, then read at 16 kHz)."""
    return codec.resample(audio, int(round(RATE * factor)), RATE).astype(np.float32)


def _noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Coloured noise, unit power: white noise shaped to 1/f^beta, beta from 0 (white) to 1.5."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    spectrum *= 1.0 / np.maximum(freqs, 20.0) ** (float(rng.uniform(0.0, 1.5)) / 2)
    out = np.fft.irfft(spectrum, n).astype(np.float32)
    return out / (np.std(out) + 1e-9)


def _mix(audio: np.ndarray, snr_db: float | None, rng: np.random.Generator) -> np.ndarray:
    if snr_db is None:
        return audio
    active = audio[np.abs(audio) > 0.01 * (np.abs(audio).max() + 1e-9)]
    power = float(np.mean(active ** 2)) if active.size else 1e-6
    bed = _noise(len(audio), rng) * np.sqrt(power / 10 ** (snr_db / 10))
    return np.clip(audio + bed, -1, 1).astype(np.float32)


def _pad_to_chunks(audio: np.ndarray) -> np.ndarray:
    return np.concatenate([audio, np.zeros((-len(audio)) % CHUNK, np.float32)])


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * RATE)), np.float32)


def _voice_audio(text: str, voice: str, factor: float) -> np.ndarray:
    return _perturb(speak(text, voice), factor)


def caller_turn(turn: sentences.Turn, voice: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """Audio and labels of one turn: lead silence, the parts (a pause between), 2 s of silence."""
    factor = float(rng.uniform(0.88, 1.12))
    pieces = [_silence(float(rng.uniform(0.3, 1.0)))]
    for i, part in enumerate(turn.parts):
        if i:
            pieces.append(_silence(float(rng.uniform(0.2, 2.0))))
        pieces.append(_voice_audio(part, voice, factor))
    speech_end = sum(len(p) for p in pieces)
    audio = _pad_to_chunks(np.concatenate(pieces + [_silence(2.0)]))
    labels = np.full(len(audio) // CHUNK, KEEP, np.int8)
    labels[speech_end // CHUNK:] = RESPOND
    return audio, labels, speech_end / RATE


def over_reply(text: str, kind: str, voice: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """A backchannel or a barge-in said over a reply (the reply's audio is not in the caller's line)."""
    factor = float(rng.uniform(0.88, 1.12))
    lead = _silence(float(rng.uniform(0.5, 2.0)))
    speech = _voice_audio(text, voice, factor)
    audio = _pad_to_chunks(np.concatenate([lead, speech, _silence(1.0)]))
    labels = np.full(len(audio) // CHUNK, KEEP, np.int8)
    onset, end = len(lead), len(lead) + len(speech)
    if kind == "backchannel":
        labels[onset // CHUNK:] = BACKCHANNEL
    else:
        labels[(onset + int(BARGE_IN_AFTER_S * RATE)) // CHUNK:] = BARGE_IN
    return audio, labels, end / RATE


def build(seed: int, n_turns: int = 600, n_over_reply: int = 120, part: str = "train",
          limit: int | None = None) -> list[Sample]:
    """The corpus for `seed`: `n_turns` caller turns (about half with a pause) and `n_over_reply`
    backchannels and barge-ins over a reply, from the sentences of `part` (sentences.PARTS).
    The same arguments give the same samples; `limit` keeps only the first ones (the same as in
    the whole corpus: every choice of what to say is drawn first)."""
    rng = np.random.default_rng(seed)
    samples = []
    over = [(b, "backchannel") for b in sentences.BACKCHANNELS] + [
        (t.text, "barge_in") for t in sentences.complete_turns(part)]
    jobs = [("turn", t) for t in sentences.sample_turns(n_turns, rng, part)] + [
        ("over", over[int(rng.integers(len(over)))]) for _ in range(n_over_reply)]
    for what, item in jobs[:limit]:
        voice = VOICES[int(rng.integers(len(VOICES)))]
        if what == "turn":
            audio, labels, end = caller_turn(item, voice, rng)
            kind, text, reply_active = item.kind, item.text, False
        else:
            text, kind = item
            audio, labels, end = over_reply(text, kind, voice, rng)
            reply_active = True
        audio, telephony, snr = _on_a_line(audio, rng)
        samples.append(Sample(kind, text, voice, audio, labels, reply_active, telephony, snr, end))
    return samples


def _on_a_line(audio: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, bool, float | None]:
    """The audio as a call carries it: a third through 8 kHz G.711, some under noise."""
    telephony = bool(rng.random() < 1 / 3)
    snr = SNRS[int(rng.integers(len(SNRS)))]
    audio = _mix(audio, snr, rng)
    if telephony:
        audio = codec.through_phone_line(audio, RATE)[:len(audio)]
    return audio, telephony, snr


def short_answers(seed: int, limit: int | None = None) -> list[Sample]:
    """Every short answer (sentences.SHORT_ANSWERS) in every voice, as a whole turn: with so few
    words the transcript and the speech's length say little, so they are measured on their own
    (training.turn_taking.evaluate reports them)."""
    rng = np.random.default_rng(seed)
    samples = []
    for turn, voice in [(t, v) for t in sentences.short_answer_turns() for v in VOICES][:limit]:
        audio, labels, end = caller_turn(turn, voice, rng)
        audio, telephony, snr = _on_a_line(audio, rng)
        samples.append(Sample(turn.kind, turn.text, voice, audio, labels, False, telephony, snr, end))
    return samples


def real_recordings(seed: int, pauses_per_clip: int = 3) -> list[Sample]:
    """Validation only: each real recording whole, and cut at its quietest middle point with a
    0.3-1.5 s pause, `pauses_per_clip` times (the benchmark's pause kind "real_recording", the same
    halves: `bench.sources.halves_around_a_pause`)."""
    from bench.sources import halves_around_a_pause, recordings

    rng = np.random.default_rng(seed)
    samples = []
    for rec in recordings():
        first, second = halves_around_a_pause(rec.audio)
        layouts = [("real_complete", [rec.audio])] + [
            ("real_split", [first, _silence(float(rng.uniform(0.3, 1.5))), second])
            for _ in range(pauses_per_clip)]
        for kind, pieces in layouts:
            lead = _silence(float(rng.uniform(0.3, 1.0)))
            speech_end = len(lead) + sum(len(p) for p in pieces)
            audio = _pad_to_chunks(np.concatenate([lead, *pieces, _silence(2.0)]))
            labels = np.full(len(audio) // CHUNK, KEEP, np.int8)
            labels[speech_end // CHUNK:] = RESPOND
            telephony = rec.native_rate == 8000
            samples.append(Sample(kind, rec.text, f"recording:{rec.name}", audio, labels, False, telephony, None,
                                  speech_end / RATE))
    return samples
