"""How often a caller's own voice looks like a respond-sound to YAMNet: the tuning data for the
score a respond-label tag needs while the caller speaks.

    python -m training.sounds.over_speech            # ~3 min on 2 cores

Reads speech only: caller turns of the turn-taking training corpus (training/turn_taking/corpus.py:
its sentences, synthetic voices, noise at 5-20 dB, a third through G.711), which share no sentence
with the benchmark and hold no event sound. Every clip goes through the live encoder's tagging
(sound_events.advance, one 0.96 s window every sound_hop_ms, chunk by chunk) and the highest score
of any default respond label is kept. Prints, per candidate threshold, the share of clips that
would have triggered a false reaction, and the labels the voices set off.

The real recordings on this machine (bench/sources.recordings: codec2, ALSA) are checked the same
way, as validation only.

Result (2026-12-03, 300 clips, 26.9 min, and 24 real recordings): no clip reached 0.3, the
policy's default min_score, for any respond label. So sounds heard over the caller's speech are
judged like any other, with no extra threshold; rerun this when the tagger or the respond set
changes.
"""
from __future__ import annotations

import argparse
import collections

import numpy as np

from services.encoder import sound_events
from soundloop.models import model_path
from soundloop.settings import EncoderSettings
from soundloop.sound_classes import default_respond_labels
from training.turn_taking import corpus

SEED = 20261203
CANDIDATES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
MAX_FALSE_ALARM_RATE = 0.01
CHUNK = corpus.CHUNK


def respond_scores(tagger: sound_events.YamnetTagger, audio: np.ndarray, hop_frames: int) -> dict[str, float]:
    """The highest score of each default respond label over the clip, tagged as the live encoder does."""
    stream, best = sound_events.SoundStream(), {}
    respond = default_respond_labels()
    for start in range(0, len(audio), CHUNK):
        piece = audio[start:start + CHUNK]
        for tag in sound_events.advance(tagger, stream, piece, start + len(piece), hop_frames, 0.1):
            if tag.label in respond:
                best[tag.label] = max(best.get(tag.label, 0.0), tag.score)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=300)
    args = parser.parse_args(argv)
    tagger = sound_events.YamnetTagger(model_path("yamnet", "model.onnx"), model_path("yamnet", "yamnet_class_map.csv"))
    hop_frames = sound_events.hop_frames(EncoderSettings().sound_hop_ms)
    samples = [s for s in corpus.build(SEED, n_turns=args.clips, n_over_reply=0, part="train")]
    worst, offenders = [], collections.Counter()
    for sample in samples:
        scores = respond_scores(tagger, sample.audio, hop_frames)
        worst.append(max(scores.values(), default=0.0))
        offenders.update(label for label, score in scores.items() if score >= CANDIDATES[0])
    worst = np.array(worst)
    seconds = sum(len(s.audio) for s in samples) / 16000
    print(f"{len(samples)} speech clips ({seconds / 60:.1f} min), seed {SEED}")
    chosen = None
    for t in CANDIDATES:
        rate = float(np.mean(worst >= t))
        print(f"  respond-label tag >= {t:.1f}: {rate:.3f} of clips")
        if chosen is None and rate <= MAX_FALSE_ALARM_RATE:
            chosen = t
    print(f"labels voices set off (clips >= {CANDIDATES[0]:.1f}): {dict(offenders.most_common(8))}")
    print(f"lowest threshold with <= {MAX_FALSE_ALARM_RATE:.0%} false alarms: {chosen}")
    from bench.sources import recordings  # validation only: never tuned on
    real = {rec.name: respond_scores(tagger, rec.audio, hop_frames) for rec in recordings()}
    over = {name: scores for name, scores in real.items() if max(scores.values(), default=0.0) >= CANDIDATES[0]}
    print(f"real recordings with a respond-label tag >= {CANDIDATES[0]}: {len(over)} of {len(real)} {over or ''}")


if __name__ == "__main__":
    main()
