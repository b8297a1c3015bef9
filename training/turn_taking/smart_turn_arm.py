"""The third arm of the turn-taking comparison: Smart Turn v3.2 with silence, as Pipecat runs it.

Pipecat asks Smart Turn (training/turn_taking/smart_turn.py) once the VAD has heard
ASKED_AFTER_S of silence, over the turn's audio so far; "complete" ends the turn,
"incomplete" waits for a silence fallback. Here the fallback is the decider's own
max_silence at medium eagerness (evaluate.MAX_SILENCE_MS), so the three arms differ only in
what ends a turn early. This computes, per 100 ms chunk of every sample of a corpus part,
the Smart Turn probability in force (asked once per quiet run, at the first chunk with
ASKED_AFTER_S of silence by the encoder's VAD; NaN while none is), and saves it beside the
samples' metadata; `evaluate --smart-turn FILE` scores it on the same sequences as the
learned model and the hand-tuned rules (extract those features from the same part and seed):

    python -m training.turn_taking.smart_turn_arm --seed 2 --part validation --turns 150 --over-reply 40 --out S
    python -m training.turn_taking.evaluate --model services/decider/models/turn_taking.onnx \\
        --features training/turn_taking/data/validation-seed2.npz --smart-turn S

Over a reply the arm does nothing (Pipecat's interruptions are VAD-driven): those samples stay NaN.
"""
from __future__ import annotations

import argparse
import pathlib
import time

import numpy as np

from services.encoder import voice_activity
from training.turn_taking import corpus
from training.turn_taking.features import PRE_ROLL, corpus_part, encoder_vad, metadata
from training.turn_taking.smart_turn import ASKED_AFTER_S, SmartTurn

ASKED_AFTER_MS = int(ASKED_AFTER_S * 1000)


def probabilities(sample: corpus.Sample, model: SmartTurn, vad: voice_activity.SileroVad) -> np.ndarray:
    """Per chunk, the Smart Turn probability of the quiet run it belongs to (NaN: not asked)."""
    out = np.full(len(sample.labels), np.nan, np.float32)
    if sample.reply_active:
        return out
    stream, audio_from, current = voice_activity.VadStream(), None, np.nan
    for i in range(len(sample.labels)):
        end = (i + 1) * corpus.CHUNK
        for b in vad.process(stream, sample.audio[i * corpus.CHUNK:end], end):
            if b.kind == voice_activity.BoundaryKind.START:
                current = np.nan  # speech again: the next quiet run is asked afresh
                if audio_from is None:  # the gateway's pre-roll before the first onset
                    audio_from = max(0, end - PRE_ROLL)
        quiet = not stream.activity.in_speech and audio_from is not None
        if quiet and np.isnan(current) and stream.run_ms(end) >= ASKED_AFTER_MS:
            current = model.probability(sample.audio[audio_from:end])
        out[i] = current
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--turns", type=int, default=150)
    parser.add_argument("--over-reply", type=int, default=40)
    parser.add_argument("--part", choices=("validation", "real", "short"), default="validation")
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args()
    t0 = time.monotonic()
    samples = corpus_part(args.part, args.seed, args.turns, args.over_reply)
    model, vad = SmartTurn(), encoder_vad()
    smart_turn = np.concatenate([probabilities(s, model, vad) for s in samples])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, smart_turn=smart_turn, **metadata(samples))
    print(f"smart turn: {len(samples)} samples in {time.monotonic() - t0:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
