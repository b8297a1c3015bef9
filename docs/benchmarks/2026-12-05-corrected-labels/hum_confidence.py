"""Does Moonshine's confidence tell hums heard as words from real interruptions? (No: README.md.)

    PYTHONPATH=. python docs/benchmarks/2026-12-05-corrected-labels/hum_confidence.py [moonshine-tiny]

Training phrases and voices only (training/turn_taking), never the benchmark's. Writes one row per
decode to hum_confidence_<model>.json in the working directory and prints the summary.
"""
from __future__ import annotations

import json
import sys

import numpy as np

from services.decider.backchannel import is_backchannel, too_weak_to_interrupt
from services.encoder.recognizers import load
from training.turn_taking import corpus, sentences

HUMS = list(sentences.BACKCHANNELS) + ["hmm", "uh-hm", "mm", "mmm hmm", "uh huh huh"]
CUES = ["Wait.", "Stop.", "Hold on.", "No, that's wrong.", "Sorry, what?", "Actually, never mind.",
        "Can you repeat that?", "That's not what I asked.", "Go back a bit.", "Stop talking please."]


def main() -> None:
    model = sys.argv[1] if len(sys.argv) > 1 else "moonshine-tiny"
    asr = load(model, 1, 1)
    rng = np.random.default_rng(11)
    rows = []
    said = [(h, "hum") for h in HUMS] + [(c, "cue") for c in CUES] + [
        (t.text, "turn") for t in sentences.complete_turns("validation")[::3]]
    for text, kind in said:
        for voice in corpus.VOICES:
            for line in (False, True):
                audio = corpus._voice_audio(text, voice, float(rng.uniform(0.88, 1.12)))
                if line:
                    audio = corpus._on_a_line(audio, rng)[0]
                heard = asr.transcribe(audio.astype(np.float32), "en", False)
                passes = bool(heard.text) and (is_backchannel(heard.text) or too_weak_to_interrupt(heard.text))
                rows.append(dict(kind=kind, said=text, voice=voice, line=line, heard=heard.text,
                                 logprob=round(heard.avg_logprob, 3), stops=bool(heard.text) and not passes))
    json.dump(rows, open(f"hum_confidence_{model}.json", "w"), indent=0)
    for kind in ("hum", "cue", "turn"):
        stops = [r["logprob"] for r in rows if r["kind"] == kind and r["stops"]]
        n = sum(r["kind"] == kind for r in rows)
        print(f"{kind}: {len(stops)} of {n} would stop a reply; their avg log-prob p5/p10/p50/p90 "
              f"{np.percentile(stops, [5, 10, 50, 90]).round(2).tolist() if stops else '-'}")


if __name__ == "__main__":
    main()
