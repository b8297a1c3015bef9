"""Learned model vs the hand-tuned policy, offline, on extracted feature sequences.

Both read the same per-chunk view the decider gets (services/decider/turn_features.py)
and decide at the end of each 100 ms chunk:
  learned     RESPOND once the caller is quiet, a transcript is known, and P(respond) >= threshold (the
              decider's at medium eagerness, turn_settings.EAGERNESS)
              or the silence reached 1800 ms (max_silence at medium eagerness), as the decider
              does; over a reply, STOP once P(barge_in) >= threshold (reported, not served: the
              decider keeps its barge-in rules, which also read the overlap's words)
  hand-tuned  rule 4 of services/decider/turn_policy.py at medium eagerness: quiet, a transcript,
              and silence >= 250 ms with p_end >= 0.5, or silence >= 1800 ms

    python -m training.turn_taking.evaluate --model services/decider/models/turn_taking.onnx \
        --features .cache/turn/validation.npz .cache/turn/real.npz

With `--smart-turn` (training.turn_taking.smart_turn_arm, one file per features file), a third arm:
  smart_turn  quiet, and Smart Turn v3.2 (asked at 200 ms of silence) calls the turn complete, or the
              silence reached 1800 ms: Pipecat's audio-only way, with the same fallback

Features extracted with their texts (training.turn_taking.features writes them) also report whole
turns of SHORT_WORDS words or fewer on their own: `features --part short` extracts the short answers
("Not yet.", "Two adults.") that no training turn contains.
"""
from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np

from services.decider.turn_features import HAS_TEXT, IN_SPEECH, SILENCE_S, TEXT_END_P
from services.decider.turn_settings import EAGERNESS
from soundloop.v1 import interaction_pb2 as api
from training.turn_taking import corpus
from training.turn_taking.train import shift_text, split_sequences

CHUNK_S = 0.1
ANSWER_WINDOW_S = 2.0
SHORT_WORDS = 3  # "Not yet.", "Yes, that one.": a whole turn this short is reported on its own


def _percentile_ms(values: list[float], q: float) -> int | None:
    return round(float(np.percentile(values, q))) if values else None


def learned_probabilities(model: pathlib.Path, features: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    hidden = np.zeros(session.get_inputs()[1].shape, np.float32)
    out = []
    for row in features:
        probs, hidden = session.run(None, {"features": row[None, None, :], "hidden": hidden})
        out.append(probs[0])
    return np.stack(out)


MAX_SILENCE_MS = 1800
SMART_TURN_THRESHOLD = 0.5  # the model's own (training/turn_taking/smart_turn.py)


def _quiet_text_silence(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    quiet_with_text = (features[:, IN_SPEECH] == 0) & (features[:, HAS_TEXT] > 0)
    return quiet_with_text, np.expm1(features[:, SILENCE_S]) * 1000


def rules_respond(features: np.ndarray) -> np.ndarray:
    ready, silence_ms = _quiet_text_silence(features)
    return ready & (((silence_ms >= 250) & (features[:, TEXT_END_P] >= 0.5)) | (silence_ms >= MAX_SILENCE_MS))


def learned_respond(features: np.ndarray, p_respond: np.ndarray, threshold: float) -> np.ndarray:
    ready, silence_ms = _quiet_text_silence(features)
    return ready & ((p_respond >= threshold) | (silence_ms >= MAX_SILENCE_MS))


def smart_turn_respond(features: np.ndarray, p_complete: np.ndarray) -> np.ndarray:
    """Pipecat's way (training/turn_taking/smart_turn_arm.py): quiet, and Smart Turn calls the turn
    complete or the silence reached max_silence; no transcript needed (Pipecat transcribes after)."""
    _, silence_ms = _quiet_text_silence(features)
    quiet = features[:, IN_SPEECH] == 0
    return quiet & ((np.nan_to_num(p_complete, nan=0.0) >= SMART_TURN_THRESHOLD) | (silence_ms >= MAX_SILENCE_MS))


def first(mask: np.ndarray) -> int | None:
    hits = np.nonzero(mask)[0]
    return int(hits[0]) if hits.size else None


def outcomes(fires: list[np.ndarray | None], data) -> list[dict]:
    """Per sample: took over a pause, answered in time, and the latency (s) when answered."""
    rows = []
    for i, fire in enumerate(fires):
        if fire is None:
            continue
        end = float(data["speech_end_s"][i])
        at = first(fire)
        t = None if at is None else (at + 1) * CHUNK_S
        kind = str(data["kinds"][i])
        words = len(str(data["texts"][i]).split()) if "texts" in data else None
        if bool(data["reply_active"][i]):
            rows.append({"kind": kind, "stopped": at is not None})
            continue
        took_over = t is not None and t < end - 1e-6
        answered = t is not None and not took_over and t - end <= ANSWER_WINDOW_S
        rows.append({"kind": kind, "took_over": took_over, "answered": answered,
                     "latency_s": t - end if answered else None, "telephony": bool(data["telephony"][i]),
                     "snr_db": float(data["snr_db"][i]), "split": kind not in ("complete", "real_complete"),
                     "short": words is not None and words <= SHORT_WORDS})
    return rows


def summary(rows: list[dict]) -> dict:
    turns = [r for r in rows if "took_over" in r]
    split = [r for r in turns if r["split"]]
    whole = [r for r in turns if not r["split"]]
    lat = [r["latency_s"] * 1000 for r in turns if r["latency_s"] is not None]
    noisy = [r for r in split if r["snr_db"] >= 0]
    bc = [r for r in rows if r["kind"] == "backchannel"]
    bi = [r for r in rows if r["kind"] == "barge_in"]

    def rate(xs, key):
        return round(sum(r[key] for r in xs) / len(xs), 3) if xs else None

    return {
        "turns": len(turns), "pause_takeover": rate(split, "took_over"), "turn_success": rate(whole, "answered"),
        "short_turns": _short_turns(whole, rate),
        "answered_after_pause": rate(split, "answered"),
        "decision_p50_ms": _percentile_ms(lat, 50),
        "decision_p95_ms": _percentile_ms(lat, 95),
        "takeover_by_kind": {k: rate([r for r in split if r["kind"] == k], "took_over")
                             for k in sorted({r["kind"] for r in split})},
        "takeover_8k": rate([r for r in split if r["telephony"]], "took_over"),
        "takeover_noisy": rate(noisy, "took_over"),
        "by_noise": _by_noise(turns, rate),
        "backchannel_false_stop": rate(bc, "stopped"), "barge_in_stopped": rate(bi, "stopped"),
    }


def _short_turns(whole: list[dict], rate) -> dict | None:
    """Whole turns of a few words (an answer to an agent's question): with so little speech and
    text, a model that has seen only long turns waits for the silence fallback."""
    short = [r for r in whole if r["short"]]
    if not short:
        return None
    lat = [r["latency_s"] * 1000 for r in short if r["latency_s"] is not None]
    return {"n": len(short), "success": rate(short, "answered"),
            "decision_p50_ms": _percentile_ms(lat, 50)}


def _by_noise(turns: list[dict], rate) -> dict:
    """Success, takeover and decision p50 per noise level (corpus.SNRS; -1: none), where the
    learned model is weakest: in noise the recogniser returns fewer words, and silence sounds busier."""
    out = {}
    for snr in sorted({r["snr_db"] for r in turns}):
        rows = [r for r in turns if r["snr_db"] == snr]
        lat = [r["latency_s"] * 1000 for r in rows if not r["split"] and r["latency_s"] is not None]
        out["clean" if snr < 0 else f"{snr:g} dB"] = {
            "turn_success": rate([r for r in rows if not r["split"]], "answered"),
            "pause_takeover": rate([r for r in rows if r["split"]], "took_over"),
            "whole_turn_decision_p50_ms": _percentile_ms(lat, 50)}
    return out


def evaluate(model: pathlib.Path, data, threshold: float, barge_threshold: float, text_shift: int = 0,
             smart_turn=None) -> dict:
    """The arms on one feature file; `smart_turn`: smart_turn_arm's output for the same samples."""
    seqs = [(shift_text(f, text_shift), lab) for f, lab in split_sequences(data)]
    learned, rules = [], []
    for (f, _), reply in zip(seqs, data["reply_active"], strict=True):
        p = learned_probabilities(model, f)
        learned.append(p[:, corpus.BARGE_IN] >= barge_threshold if reply
                       else learned_respond(f, p[:, corpus.RESPOND], threshold))
        # The hand-tuned barge-in rules (services/decider/barge_in.py) also read the transcript of the
        # overlap, which these features do not carry: the comparison covers turn ends only.
        rules.append(None if reply else rules_respond(f))
    report = {"learned": summary(outcomes(learned, data)), "hand_tuned": summary(outcomes(rules, data))}
    if smart_turn is not None:
        report["smart_turn"] = summary(outcomes(_smart_turn_fires(seqs, data, smart_turn), data))
    return report


def _smart_turn_fires(seqs: list, data, smart_turn) -> list[np.ndarray | None]:
    if not np.array_equal(smart_turn["lengths"], data["lengths"]) or not np.array_equal(smart_turn["texts"],
                                                                                       data["texts"]):
        raise SystemExit("--smart-turn was computed on other samples than --features (same part and seed?)")
    bounds = np.cumsum(np.concatenate([[0], data["lengths"]]))
    return [None if reply else smart_turn_respond(f, smart_turn["smart_turn"][a:b])
            for (f, _), reply, a, b in zip(seqs, data["reply_active"], bounds[:-1], bounds[1:], strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=pathlib.Path, required=True)
    parser.add_argument("--features", type=pathlib.Path, nargs="+", required=True)
    parser.add_argument("--threshold", type=float, default=EAGERNESS[api.EAGERNESS_MEDIUM].model_threshold,
                        help="the learned model's; default: the decider's at medium eagerness")
    parser.add_argument("--barge-threshold", type=float, default=0.5)
    parser.add_argument("--sweep", action="store_true", help="thresholds 0.3-0.9: the trade-off curve")
    parser.add_argument("--text-shift", type=int, nargs="+", default=[0],
                        help="move every transcript's arrival by these many chunks (a slower recogniser: 3)")
    parser.add_argument("--smart-turn", type=pathlib.Path, nargs="+", default=[],
                        help="training.turn_taking.smart_turn_arm outputs, one per --features file: a third arm")
    args = parser.parse_args()
    if args.smart_turn and len(args.smart_turn) != len(args.features):
        parser.error("--smart-turn needs one file per --features file")
    arms = dict(zip(args.features, [np.load(p) for p in args.smart_turn], strict=False))
    thresholds = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] if args.sweep else [args.threshold]
    report = {f"{path} @ {t}" + (f", text {shift:+d} chunks" if shift else ""):
              evaluate(args.model, np.load(path), t, args.barge_threshold, shift, arms.get(path))
              for path in args.features for t in thresholds for shift in args.text_shift}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
