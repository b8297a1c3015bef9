"""Turns corpus samples into the decider's per-chunk feature vectors, with the real models.

The encoder's path, chunk by chunk: Silero VAD with the encoder's hysteresis, prosody
(services/encoder/prosody.py). The transcript of the turn so far is recognised with
Moonshine tiny and scored by the end-of-turn LM (SmolLM2) when it reaches the decider;
the decider sees it once the VAD has confirmed the end of speech, until the caller
speaks again. Over a reply, no transcript is used. When, and over which audio
(`--text-timing`):

  trained  what the shipped model was trained on: at each VAD end of speech, over
           [first onset, end sample], seen TRAINED_DELAY_CHUNKS after the end.
  gateway  as the gateway asks for it (services/gateway/recognition.py): once per quiet
           run, at the first chunk with `early_recognition_ms` of pending silence (or at
           the VAD's end if that comes first), over the turn's audio with the gateway's
           pre-roll up to that chunk's end, seen GATEWAY_DELAY_CHUNKS later; usually one
           or two chunks sooner than `trained`, and with the silence Moonshine hears
           after the last word (it punctuates the end by it).

    python -m training.turn_taking.features --seed 1 --turns 600 --over-reply 120 --out .cache/turn/train.npz
"""
from __future__ import annotations

import argparse
import pathlib
import time

import numpy as np

from services.decider import turn_model
from services.encoder import prosody, voice_activity
from services.gateway import caller_audio
from soundloop.audio.codec import MODEL_RATE
from soundloop.decider.v1 import decider_pb2
from soundloop.models import model_path
from soundloop.settings import load_settings
from training.turn_taking import corpus

TEXT_TIMINGS = ("trained", "gateway")
TRAINED_DELAY_CHUNKS = 2  # a final transcript lands ~150-400 ms after the end of speech (Moonshine, process mode)
# Moonshine tiny answers the gateway's early recognition in 45-190 ms (process mode): mostly by the next chunk.
GATEWAY_DELAY_CHUNKS = 1


# The gateway keeps this much audio from before it hears the caller's first onset.
PRE_ROLL = int(caller_audio.PRE_ROLL_S * MODEL_RATE)


def encoder_vad() -> voice_activity.SileroVad:
    """Silero VAD with the encoder's hysteresis, as every extracted feature sequence hears it."""
    enc = load_settings(profile="light").encoder
    hysteresis = voice_activity.Hysteresis.from_ms(enc.vad_threshold, enc.vad_start_ms, enc.vad_end_ms)
    return voice_activity.SileroVad(model_path("silero-vad", "silero_vad_16k.onnx"), hysteresis)


class Extractor:
    def __init__(self, text_timing: str = "trained"):
        from services.decider.end_of_turn import LlamaEndOfTurnEstimator
        from services.encoder.moonshine import MoonshineTranscriber

        settings = load_settings(profile="light")
        self.vad = encoder_vad()
        self.asr = MoonshineTranscriber(model_path("moonshine-tiny"), threads=1)
        self.eot = LlamaEndOfTurnEstimator.from_settings(settings)
        self.text_timing = text_timing
        self.early = settings.gateway.early_recognition_ms * MODEL_RATE // 1000

    def _quiet_from(self, stream: voice_activity.VadStream, end: int) -> int | None:
        """Where the caller's quiet run began, once the gateway asks to recognise it (None: not yet)."""
        activity = stream.activity
        if not activity.in_speech:
            return activity.since
        pending = stream.known_until(end) - activity.run_start if activity.run_frames else 0
        return activity.run_start if pending >= self.early else None

    def sample(self, s: corpus.Sample) -> np.ndarray:
        """[chunks, turn_features.SIZE] for one sample: the decider's view of each chunk
        (services/decider/turn_model.features of the observation the gateway would send)."""
        stream = voice_activity.VadStream()
        rows, text_p, asked, onset, audio_from, asked_for = [], None, None, None, None, None
        for i in range(len(s.labels)):
            pcm = s.audio[i * corpus.CHUNK:(i + 1) * corpus.CHUNK]
            end = (i + 1) * corpus.CHUNK
            probs: list[float] = []
            ended = None
            for b in self.vad.process(stream, pcm, end, probabilities=probs):
                if b.kind == voice_activity.BoundaryKind.START:
                    if onset is None:
                        # The gateway keeps the last PRE_ROLL_S of audio before it hears the onset.
                        onset, audio_from = b.sample, max(0, end - PRE_ROLL)
                    text_p, asked = None, None
                else:
                    ended = b.sample
            ask = None  # (chunk the transcript is seen from, audio start, audio end)
            listening = not s.reply_active and onset is not None
            if listening and self.text_timing == "trained":
                ask = (i + TRAINED_DELAY_CHUNKS, onset, ended) if ended is not None else None
            elif listening and (quiet_from := self._quiet_from(stream, end)) not in (None, asked_for):
                asked_for, ask = quiet_from, (i + GATEWAY_DELAY_CHUNKS, audio_from, end)
            if ask is not None:
                asked, text_p = ask, None  # the last transcript no longer covers what was said
            if asked is not None and i >= asked[0]:
                text = self.asr.transcribe(s.audio[asked[1]:asked[2]], "en", False).text.strip()
                text_p = self.eot.probability(text) if text else None
                asked = None
            in_speech, run_ms = stream.activity.in_speech, stream.run_ms(end)
            obs = decider_pb2.Observation(
                in_speech=in_speech, speech_ms=run_ms if in_speech else 0, silence_ms=0 if in_speech else run_ms,
                prosody=prosody.chunk_prosody(pcm, probs), reply=decider_pb2.ReplyState(active=s.reply_active))
            # The gateway shows the transcript once the VAD has confirmed the end (observation.py).
            rows.append(turn_model.features(obs, None if in_speech else text_p))
        return np.stack(rows)


def extract(samples: list[corpus.Sample], text_timing: str = "trained") -> dict[str, np.ndarray]:
    ex = Extractor(text_timing)
    feats = [ex.sample(s) for s in samples]
    return {"features": np.concatenate(feats), **metadata(samples)}


def metadata(samples: list[corpus.Sample]) -> dict[str, np.ndarray]:
    """What the evaluation reads of each sample besides its features (labels, kind, line, noise)."""
    return {"labels": np.concatenate([s.labels for s in samples]),
            "lengths": np.array([len(s.labels) for s in samples], np.int32),
            "kinds": np.array([s.kind for s in samples]),
            "texts": np.array([s.text for s in samples]),
            "telephony": np.array([s.telephony for s in samples]),
            "speech_end_s": np.array([s.speech_end_s for s in samples], np.float32),
            "reply_active": np.array([s.reply_active for s in samples]),
            "voices": np.array([s.voice for s in samples]),
            "snr_db": np.array([-1.0 if s.snr_db is None else s.snr_db for s in samples], np.float32)}


def corpus_part(part: str, seed: int, turns: int, over_reply: int) -> list[corpus.Sample]:
    """The samples of a corpus part: "real" and "short" are validation sets of their own."""
    if part == "real":
        return corpus.real_recordings(seed)
    if part == "short":
        return corpus.short_answers(seed)
    return corpus.build(seed, turns, over_reply, part)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--turns", type=int, default=600)
    parser.add_argument("--over-reply", type=int, default=120)
    parser.add_argument("--part", choices=("train", "validation", "real", "short"), default="train",
                        help="short: every short answer in every voice, never trained on (corpus.short_answers)")
    parser.add_argument("--text-timing", choices=TEXT_TIMINGS, default="trained")
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args()
    t0 = time.monotonic()
    samples = corpus_part(args.part, args.seed, args.turns, args.over_reply)
    print(f"corpus: {len(samples)} samples in {time.monotonic() - t0:.0f} s", flush=True)
    data = extract(samples, args.text_timing)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **data)
    print(f"features: {len(data['labels'])} chunks in {time.monotonic() - t0:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
