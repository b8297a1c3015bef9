"""Trains the turn-taking model on extracted features and exports it to ONNX.

    python -m training.turn_taking.train --features training/turn_taking/data/train-*.npz \
        --out services/decider/models/turn_taking.onnx

A one-layer GRU over the per-chunk vectors of services/decider/turn_features.py,
read causally, one 100 ms chunk at a time, with 4 outputs (corpus.LABELS). Why a GRU:
the decision depends on how the last second went (pitch falling into the pause, how
long the silence has lasted, whether a transcript came), which a recurrent state
carries in 24 numbers; the decider keeps them in its per-session state, so the
policy stays a pure function of (state, observation), and a step costs ~2k
multiply-adds. A causal transformer would need the window of past chunks in the
state instead; a Whisper-encoder head like Smart Turn costs ~60 ms per call.

Reproducible: one thread, seeded; the same features and seed give the same weights.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import time

import numpy as np

from services.decider import turn_features
from training.turn_taking import corpus

HIDDEN = 24
EPOCHS = 40
BATCH = 32
LR = 0.01
# Taking over a mid-turn pause is the costly mistake (issue 9: <= 3 %), so the respond class
# is learned from the pause side: keep_listening chunks in silence count double.
PAUSE_WEIGHT = 2.0
# How late a transcript reaches the decider depends on the recogniser and the load: Moonshine tiny
# alone answers within a chunk or two of the VAD's end of speech, Moonshine base beside a busy LLM or
# under Ray Serve several chunks later. The features carry one timing (features.TRAINED_DELAY_CHUNKS).
# `--text-shift A B` moves every transcript's arrival by A..B chunks, drawn per sequence and epoch.
# Measured with (-2, 4) over three seeds (model card): held-out takeover 0.24 vs 0.29 without, turn
# success 0.93 vs 0.95, within the spread between seeds, so the shipped model is trained without it.
HAS_TEXT, TEXT_P, IN_SPEECH = turn_features.HAS_TEXT, turn_features.TEXT_END_P, turn_features.IN_SPEECH


def shift_text(features: np.ndarray, shift: int) -> np.ndarray:
    """`features` with each transcript's arrival moved by `shift` chunks: later, the chunks before it
    lose the text; earlier, the quiet chunks just before it gain it (never across speech)."""
    out = features.copy()
    has = features[:, HAS_TEXT] > 0
    starts = [i for i in range(len(has)) if has[i] and (i == 0 or not has[i - 1])]
    for a in starts:
        if shift > 0:
            end = a
            while end < len(has) and has[end] and end < a + shift:
                end += 1
            out[a:end, HAS_TEXT] = out[a:end, TEXT_P] = 0.0
        for j in range(a - 1, a + shift - 1, -1):  # shift < 0
            if j < 0 or features[j, IN_SPEECH] > 0 or has[j]:
                break
            out[j, HAS_TEXT], out[j, TEXT_P] = 1.0, features[a, TEXT_P]
    return out


def split_sequences(data) -> list[tuple[np.ndarray, np.ndarray]]:
    out, start = [], 0
    for n in data["lengths"]:
        out.append((data["features"][start:start + n], data["labels"][start:start + n]))
        start += n
    return out


def build_model(torch, hidden: int = HIDDEN):
    class TurnTaking(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = torch.nn.GRU(turn_features.SIZE, hidden, batch_first=True)
            self.head = torch.nn.Linear(hidden, len(corpus.LABELS))

        def forward(self, features, hidden):
            out, hidden = self.gru(features, hidden)
            return self.head(out), hidden

    return TurnTaking()


def train(sequences, seed: int, epochs: int = EPOCHS, hidden: int = HIDDEN, pause_weight: float = PAUSE_WEIGHT,
          text_shift: tuple[int, int] | None = None):
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(seed)
    model = build_model(torch, hidden)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    for epoch in range(epochs):
        order = rng.permutation(len(sequences))
        total = 0.0
        for b in range(0, len(order), BATCH):
            batch = [sequences[i] for i in order[b:b + BATCH]]
            longest = max(len(x) for x, _ in batch)
            x = np.zeros((len(batch), longest, turn_features.SIZE), np.float32)
            y = np.zeros((len(batch), longest), np.int64)
            w = np.zeros((len(batch), longest), np.float32)
            for i, (f, lab) in enumerate(batch):
                f = shift_text(f, int(rng.integers(text_shift[0], text_shift[1] + 1))) if text_shift else f
                x[i, :len(f)], y[i, :len(f)] = f, lab
                w[i, :len(f)] = np.where((lab == corpus.KEEP) & (f[:, IN_SPEECH] == 0), pause_weight, 1.0)
            logits, _ = model(torch.from_numpy(x), torch.zeros(1, len(batch), hidden))
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                     torch.from_numpy(y).reshape(-1), reduction="none")
            loss = (loss * torch.from_numpy(w).reshape(-1)).sum() / torch.from_numpy(w).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(batch)
        if epoch % 10 == 9 or epoch == epochs - 1:
            print(f"epoch {epoch + 1}: loss {total / len(sequences):.4f}", flush=True)
    return model


def export(model, path: pathlib.Path) -> None:
    hidden = model.gru.hidden_size
    """One step: features [1, 1, SIZE] and hidden [1, 1, HIDDEN] -> probabilities [1, 4], hidden."""
    import torch

    class Step(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, features, hidden):
            logits, hidden = self.inner(features, hidden)
            return torch.softmax(logits[:, -1], dim=-1), hidden

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(Step(model).eval(), (torch.zeros(1, 1, turn_features.SIZE), torch.zeros(1, 1, hidden)),
                      str(path), input_names=["features", "hidden"], output_names=["probabilities", "hidden_out"],
                      opset_version=17, dynamo=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", type=pathlib.Path, nargs="+", required=True)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--hidden", type=int, default=HIDDEN)
    parser.add_argument("--pause-weight", type=float, default=PAUSE_WEIGHT)
    parser.add_argument("--text-shift", type=int, nargs=2, default=(0, 0), metavar=("EARLIEST", "LATEST"),
                        help="chunks a transcript's arrival moves, drawn per sequence and epoch (0 0: as extracted)")
    args = parser.parse_args()
    t0 = time.monotonic()
    sequences = [seq for path in args.features for seq in split_sequences(np.load(path))]
    shift = tuple(args.text_shift) if any(args.text_shift) else None
    model = train(sequences, args.seed, args.epochs, args.hidden, args.pause_weight, shift)
    export(model, args.out)
    seconds = time.monotonic() - t0
    print(json.dumps({"sequences": len(sequences), "train_seconds": round(seconds, 1),
                      "onnx_bytes": args.out.stat().st_size}))


if __name__ == "__main__":
    main()
