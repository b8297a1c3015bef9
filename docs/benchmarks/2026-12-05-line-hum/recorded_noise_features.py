"""The turn model's held-out validation turns on a line with recorded noise instead of the corpus's
synthetic noise: a check of how the model holds up on noise it was never trained on.

    PYTHONPATH=. python docs/benchmarks/2026-12-05-line-hum/recorded_noise_features.py OUT [trained|gateway]

Same sentences, voices and SNRs as `python -m training.turn_taking.features --seed 2 --part validation
--turns 150 --over-reply 40`, but every noisy turn carries ALSA's Noise.wav (`bench.sources.mix_noise`,
the benchmark's line noise, most of its power a 170-200 Hz hum) at the drawn SNR. Validation only:
nothing recorded is trained on.
"""
from __future__ import annotations

import pathlib
import sys

import numpy as np

from bench import sources
from training.turn_taking import corpus, features


def main() -> None:
    out, timing = pathlib.Path(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else "trained")
    corpus._mix = sources.mix_noise  # same signature: (audio, snr_db, rng)
    samples = features.corpus_part("validation", 2, 150, 40)
    data = features.extract(samples, timing)
    np.savez_compressed(out, **data)
    print(f"{len(data['labels'])} chunks -> {out}")


if __name__ == "__main__":
    main()
