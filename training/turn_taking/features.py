"""Turns corpus samples into the decider's per-chunk feature vectors, with the real models.

The encoder's path, chunk by chunk: Silero VAD with the encoder's hysteresis, prosody
(services/encoder/prosody.py). The transcript of the turn so far is recognised with
Moonshine tiny at each end of speech, as the gateway asks for it, and reaches the
decider TEXT_DELAY_CHUNKS later; the end-of-turn LM (SmolLM2) scores it then. It
holds until the caller speaks again. Over a reply, no transcript is used.

    python -m training.turn_taking.features --seed 1 --turns 600 --over-reply 120 --out .cache/turn/train.npz
"""
from __future__ import annotations

import argparse
import pathlib
import time

import numpy as np

from services.decider import turn_model
from services.encoder import prosody, voice_activity
from soundloop.decider.v1 import decider_pb2
from soundloop.settings import load_settings
from training.turn_taking import corpus

TEXT_DELAY_CHUNKS = 2  # a final transcript lands ~150-400 ms after the end of speech (Moonshine, process mode)


class Extractor:
    def __init__(self):
        from services.decider.end_of_turn import LlamaEndOfTurnEstimator
        from services.encoder.moonshine import MoonshineTranscriber
        from soundloop.models import model_path

        settings = load_settings(profile="light")
        enc = settings.encoder
        hysteresis = voice_activity.Hysteresis.from_ms(enc.vad_threshold, enc.vad_start_ms, enc.vad_end_ms)
        self.vad = voice_activity.SileroVad(model_path("silero-vad", "silero_vad_16k.onnx"), hysteresis)
        self.asr = MoonshineTranscriber(model_path("moonshine-tiny"), threads=1)
        self.eot = LlamaEndOfTurnEstimator.from_settings(settings)

    def sample(self, s: corpus.Sample) -> np.ndarray:
        """[chunks, turn_features.SIZE] for one sample: the decider's view of each chunk
        (services/decider/turn_model.features of the observation the gateway would send)."""
        stream = voice_activity.VadStream()
        rows, text_p, pending_at, turn_start = [], None, None, None
        for i in range(len(s.labels)):
            pcm = s.audio[i * corpus.CHUNK:(i + 1) * corpus.CHUNK]
            end = (i + 1) * corpus.CHUNK
            probs: list[float] = []
            boundaries = self.vad.process(stream, pcm, end, probabilities=probs)
            for b in boundaries:
                if b.kind == voice_activity.BoundaryKind.START:
                    turn_start = b.sample if turn_start is None else turn_start
                    text_p, pending_at = None, None
                elif b.kind == voice_activity.BoundaryKind.END and not s.reply_active and turn_start is not None:
                    pending_at = (i + TEXT_DELAY_CHUNKS, turn_start, b.sample)
            if pending_at is not None and i >= pending_at[0]:
                text = self.asr.transcribe(s.audio[pending_at[1]:pending_at[2]], "en", False).text.strip()
                text_p = self.eot.probability(text) if text else None
                pending_at = None
            in_speech, run_ms = stream.activity.in_speech, stream.run_ms(end)
            obs = decider_pb2.Observation(
                in_speech=in_speech, speech_ms=run_ms if in_speech else 0, silence_ms=0 if in_speech else run_ms,
                prosody=prosody.chunk_prosody(pcm, probs), reply=decider_pb2.ReplyState(active=s.reply_active))
            rows.append(turn_model.features(obs, text_p))
        return np.stack(rows)


def extract(samples: list[corpus.Sample]) -> dict[str, np.ndarray]:
    ex = Extractor()
    feats = [ex.sample(s) for s in samples]
    lengths = np.array([len(f) for f in feats], np.int32)
    return {"features": np.concatenate(feats), "labels": np.concatenate([s.labels for s in samples]),
            "lengths": lengths, "kinds": np.array([s.kind for s in samples]),
            "telephony": np.array([s.telephony for s in samples]),
            "speech_end_s": np.array([s.speech_end_s for s in samples], np.float32),
            "reply_active": np.array([s.reply_active for s in samples]),
            "voices": np.array([s.voice for s in samples]),
            "snr_db": np.array([-1.0 if s.snr_db is None else s.snr_db for s in samples], np.float32)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--turns", type=int, default=600)
    parser.add_argument("--over-reply", type=int, default=120)
    parser.add_argument("--part", choices=("train", "validation", "real"), default="train")
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args()
    t0 = time.monotonic()
    samples = (corpus.real_recordings(args.seed) if args.part == "real"
               else corpus.build(args.seed, args.turns, args.over_reply, args.part))
    print(f"corpus: {len(samples)} samples in {time.monotonic() - t0:.0f} s", flush=True)
    data = extract(samples)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **data)
    print(f"features: {len(data['labels'])} chunks in {time.monotonic() - t0:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
