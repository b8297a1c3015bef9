"""Smart Turn v3.2 as a candidate end-of-turn signal, measured on the turn corpus's cases.

Pipecat's audio end-of-turn model (BSD-2), trained on real human speech: intonation,
final lengthening and the shape of the last words, no transcript. Input is the last 8 s
of the turn, trailing silence included, left-padded with zeros; the waveform is
normalised to zero mean and unit variance, then Whisper's 80-band log-mel (faster-whisper's
front end computes the same features); output P(turn complete), threshold 0.5. ~85 ms
per call on one core here.

The check asks it, 200 ms into the silence (when Pipecat asks it), about
- real recordings (bench.sources.recordings: codec2, Moonshine's, ALSA's voice), whole
  and cut at their quietest middle point, as the benchmark's real pauses are cut;
- the validation split turns of the training sentences, first half and whole, in each
  synthetic training voice;
and reports how often it calls a whole turn complete and a cut one complete (a takeover).

    python scripts/assemble_models.py --model smart-turn-v3.2
    python -m training.turn_taking.smart_turn            # ~1 min
"""
from __future__ import annotations

import json
import threading

import numpy as np
import onnxruntime as ort
from faster_whisper.feature_extractor import FeatureExtractor

from soundloop.audio.codec import MODEL_RATE
from soundloop.models import model_path

MODEL = "smart-turn-v3.2"
MODEL_FILE = "smart-turn-v3.2-cpu.onnx"
WINDOW_SAMPLES = 8 * MODEL_RATE
THRESHOLD = 0.5
ASKED_AFTER_S = 0.2  # of silence: Pipecat's VAD stop time, when it runs the model
_VARIANCE_EPS = 1e-7  # as the model's training front end


def features(samples: np.ndarray, extractor: FeatureExtractor) -> np.ndarray:
    """[1, 80, 800] input features for the last 8 s of 16 kHz float `samples`."""
    window = np.zeros(WINDOW_SAMPLES, np.float32)
    tail = samples[-WINDOW_SAMPLES:]
    window[WINDOW_SAMPLES - len(tail):] = tail
    window = (window - window.mean()) / np.sqrt(window.var() + _VARIANCE_EPS)
    return extractor(window.astype(np.float32), padding=0)[None].astype(np.float32)


class SmartTurn:
    def __init__(self, threads: int = 1):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model_path(MODEL, MODEL_FILE)), options,
                                             providers=["CPUExecutionProvider"])
        self._extractor = FeatureExtractor(feature_size=80)
        self._lock = threading.Lock()

    def probability(self, samples: np.ndarray) -> float:
        """P(the turn is complete) for a turn's 16 kHz float samples, its trailing silence included."""
        frames = features(samples, self._extractor)
        with self._lock:
            return float(self._session.run(None, {"input_features": frames})[0].reshape(-1)[0])


def _asked(model: SmartTurn, speech: np.ndarray) -> float:
    return model.probability(np.concatenate([speech, np.zeros(int(ASKED_AFTER_S * MODEL_RATE), np.float32)]))


def check() -> dict:
    from bench.sources import quietest_point, recordings, speak
    from training.turn_taking import corpus, sentences

    model = SmartTurn()
    real = [(rec.name, _asked(model, rec.audio), _asked(model, rec.audio[:quietest_point(rec.audio, 0.3, 0.7)]))
            for rec in recordings()]
    turns = sentences.split_turns("validation")
    voices = {}
    for voice in corpus.VOICES:
        whole = [_asked(model, speak(t.text, voice)) for t in turns]
        first = [_asked(model, speak(t.parts[0], voice)) for t in turns]
        voices[voice] = {"whole_called_complete": round(float(np.mean(np.array(whole) >= THRESHOLD)), 3),
                         "first_half_called_complete": round(float(np.mean(np.array(first) >= THRESHOLD)), 3)}
    p_whole, p_cut = np.array([r[1] for r in real]), np.array([r[2] for r in real])
    return {
        "real_recordings": {"clips": len(real),
                            "whole_called_complete": round(float(np.mean(p_whole >= THRESHOLD)), 3),
                            "cut_called_complete": round(float(np.mean(p_cut >= THRESHOLD)), 3),
                            "per_clip": {name: [round(w, 3), round(c, 3)] for name, w, c in real}},
        "synthetic_validation_turns": {"turns": len(turns), "by_voice": voices,
                                       "whole_called_complete": round(float(np.mean(
                                           [v["whole_called_complete"] for v in voices.values()])), 3),
                                       "first_half_called_complete": round(float(np.mean(
                                           [v["first_half_called_complete"] for v in voices.values()])), 3)},
    }


if __name__ == "__main__":
    print(json.dumps(check(), indent=1))
