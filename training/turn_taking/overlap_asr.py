"""Which recogniser should hear what the caller says over the assistant's reply?

Over a reply the barge-in rules stop on words that are not an acknowledgement
(services/decider/barge_in.py), so the recogniser decides whether an "mm-hm" stops the
reply. This measures, on training-only audio (sentences.BACKCHANNELS and HUMS, which
must not stop a reply, and INTERJECTIONS, which must; each in the corpus's ten voices,
speed and pitch, noise and G.711 as corpus.py makes them; never the benchmark's phrases):
- acknowledgements heard as one (services/decider/backchannel.py) or as nothing;
- interjections heard as words that are not an acknowledgement.
The encoder's overlap recogniser (EncoderSettings.overlap_asr_model) is chosen by it.

    python -m training.turn_taking.overlap_asr moonshine-tiny whisper-tiny.en    # ~4 min
"""
from __future__ import annotations

import argparse
import itertools
import json

import numpy as np

from services.decider.backchannel import is_backchannel
from services.encoder.recognizers import load
from training.turn_taking import corpus, sentences

PAD_S = 0.3  # the gateway's pre-roll before the utterance, and silence after it


def renditions(seed: int) -> list[tuple[str, str, bool, np.ndarray]]:
    """(phrase, kind, noisy, audio) for each phrase in each corpus voice, perturbed as the corpus is."""
    rng = np.random.default_rng(seed)
    pad = np.zeros(int(PAD_S * corpus.RATE), np.float32)
    out = []
    for kind, phrases in (("acknowledgement", sentences.BACKCHANNELS + sentences.HUMS),
                          ("interjection", sentences.INTERJECTIONS)):
        for phrase, voice in itertools.product(phrases, corpus.VOICES):
            audio = corpus._voice_audio(phrase, voice, float(rng.uniform(0.88, 1.12)))
            snr = corpus.SNRS[int(rng.integers(len(corpus.SNRS)))]
            audio = corpus._mix(audio, snr, rng)
            if rng.random() < 1 / 3:
                audio = corpus._g711(audio)
            out.append((phrase, kind, snr is not None, np.concatenate([pad, audio, pad])))
    return out


def score(engine: str, clips) -> dict:
    asr = load(engine, 1, 1)
    heard = [(phrase, kind, noisy, asr.transcribe(audio, "en", False).text) for phrase, kind, noisy, audio in clips]

    def rates(rows) -> dict:
        acks = [text for _, kind, _, text in rows if kind == "acknowledgement"]
        stops = [text for _, kind, _, text in rows if kind == "interjection"]
        return {"acknowledgements": len(acks),
                "acknowledgement_kept": round(float(np.mean([not t or is_backchannel(t) for t in acks])), 3),
                "interjections": len(stops),
                "interjection_heard": round(float(np.mean([bool(t) and not is_backchannel(t) for t in stops])), 3)}

    return {"all": rates(heard), "clean": rates([r for r in heard if not r[2]]),
            "heard": [{"said": p, "kind": k, "noisy": n, "text": t} for p, k, n, t in heard]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("engines", nargs="+", help="assembled ASR model folders, e.g. moonshine-tiny whisper-tiny.en")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    clips = renditions(args.seed)
    results = {engine: score(engine, clips) for engine in args.engines}
    print(json.dumps({e: {k: r[k] for k in ("all", "clean")} for e, r in results.items()}, indent=1))


if __name__ == "__main__":
    main()
