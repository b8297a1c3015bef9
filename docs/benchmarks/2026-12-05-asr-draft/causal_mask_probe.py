"""Does Moonshine's first-pass decoder keep a token from seeing the tokens after it?

    PYTHONPATH=. .venv/bin/python docs/benchmarks/2026-12-05-asr-draft/causal_mask_probe.py

Runs the first-pass decoder (no KV cache) once on [BOS] and once on [BOS, four unrelated words] over
the same encoded question, and compares the logits after BOS. With a causal mask they are the same up
to float rounding; a difference of the order of a logit means the later tokens leak into the earlier
positions, so one pass over a draft cannot stand in for greedy decoding step by step.
"""
from __future__ import annotations

import numpy as np

from services.encoder.moonshine import BOS, MoonshineTranscriber
from soundloop.demo import speak
from soundloop.models import model_path, models_dir


def main() -> None:
    for name in ("moonshine-tiny", "moonshine-base"):
        if not (models_dir() / name).exists():
            print(name, "not assembled")
            continue
        asr = MoonshineTranscriber(model_path(name), threads=1)
        audio = np.concatenate([np.zeros(3200, np.float32), speak("Which planet is closest to the sun?")])[None]
        mask = np.ones(audio.shape, np.int64)
        feeds = {"input_values": audio, "attention_mask": mask}
        hidden = asr._encoder.run(None, {k: v for k, v in feeds.items() if k in asr._encoder_inputs})[0]
        decoder = asr._decoder
        session = decoder._first
        others = asr._tokenizer.encode("Banana telephone purple elephant", add_special_tokens=False).ids
        rows = []
        for tokens in ([BOS], [BOS, *others]):
            run = {"input_ids": np.array([tokens], np.int64), "encoder_hidden_states": hidden,
                   "encoder_attention_mask": mask}
            if decoder._merged:
                run |= {"use_cache_branch": np.array([False]), **decoder._empty}
            wanted = decoder._inputs[session]
            rows.append(session.run(None, {k: v for k, v in run.items() if k in wanted})[0][0, 0])
        print(f"{name}: logits after BOS, alone vs followed by 4 other words: max |difference| "
              f"{float(np.abs(rows[0] - rows[1]).max()):.3f}, argmax {rows[0].argmax()} / {rows[1].argmax()}")


if __name__ == "__main__":
    main()
