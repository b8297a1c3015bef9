"""Speech recognition with Moonshine (English), run by onnxruntime: encoder + greedy decoder with KV cache.

Moonshine encodes the raw waveform at its own length (no padding to 30 s as in
Whisper), so a short utterance costs little. Two layouts are loaded: the merged
decoder as shipped (tiny: `If` on `use_cache_branch`), or the first-step and
with-cache decoders that `soundloop.model_build.moonshine` builds (base).
Moonshine has no no-speech token: on silence or noise it says "You" or "♪♪♪"
with a doubtful first token (or ends at once), so `no_speech_prob` is the doubt
in the first token, and `hallucinations` decides what to drop as for Whisper.
"""
from __future__ import annotations

import contextlib
import logging
import math
import pathlib
import re
import threading
import zlib

import numpy as np

from services.encoder import hallucinations
from services.encoder.errors import InvalidRequest, RecognitionCancelled
from services.encoder.transcriber import Segment, Transcript
from soundloop.audio.codec import MODEL_RATE
from soundloop.languages import language_code
from soundloop.model_build import moonshine as built

log = logging.getLogger(__name__)

BOS, EOS = 1, 2
# Moonshine's convention caps greedy decoding near 6.5 tokens per second of audio: never loops for long.
TOKENS_PER_SECOND = 6.5
TOKEN_MARGIN = 6
# Offline clips are decoded in windows of at most this long, cut at the quietest point past the minimum.
MAX_WINDOW_S = 20.0
MIN_WINDOW_S = 8.0
# The encoder's first convolution needs some input; shorter audio is padded with silence.
MIN_SAMPLES = MODEL_RATE // 4
_FRAME = MODEL_RATE // 50  # 20 ms frames for finding pauses
_SMOOTH_FRAMES = 10  # pauses, not the gaps between phonemes: energy over 200 ms
_NOTES = "♪♫♬♩"
# Moonshine learnt from old audiobooks: "to-morrow", "to-day", "to-night".
_ARCHAIC = re.compile(r"\b([Tt])o-(day|morrow|night)\b")


def _session(path: pathlib.Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Spinning between the many small decoder steps would take CPU from the other stages.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


class _Decoder:
    """One decoder step at a time; `first` and `cached` are one session for the merged layout."""

    def __init__(self, first, cached):
        self._first, self._cached = first, cached
        self._merged = first is cached
        self._inputs = {s: {i.name for i in s.get_inputs()} for s in (first, cached)}
        self._outputs = {s: [o.name for o in s.get_outputs()] for s in (first, cached)}
        # The merged model needs past inputs even on the first step (its other branch ignores them).
        self._empty = {i.name: np.zeros((1, i.shape[1], 0, i.shape[3]), np.float32)
                       for i in cached.get_inputs() if i.name.startswith("past_key_values.")}

    def step(self, token: int, hidden: np.ndarray, mask: np.ndarray,
             cache: dict[str, np.ndarray] | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Logits for the next token and the cache after `token`."""
        session = self._cached if cache else self._first
        feeds = {"input_ids": np.array([[token]], np.int64), "encoder_hidden_states": hidden,
                 "encoder_attention_mask": mask}
        if self._merged:
            feeds |= {"use_cache_branch": np.array([cache is not None]), **(cache or self._empty)}
        elif cache:
            feeds |= cache
        wanted = self._inputs[session]
        values = session.run(None, {k: v for k, v in feeds.items() if k in wanted})
        new = dict(cache or {})
        for name, value in zip(self._outputs[session][1:], values[1:], strict=True):
            # Cross-attention keys/values come from the first step only; later ones are dummies.
            if cache is None or ".decoder." in name:
                new[name.replace("present.", "past_key_values.", 1)] = value
        return values[0][0, -1], new


class MoonshineTranscriber:
    """Moonshine tiny or base; decodes one input at a time (onnxruntime uses the threads given)."""

    multilingual = False

    def __init__(self, model_dir: pathlib.Path, threads: int):
        import tokenizers

        self.name = model_dir.name
        self._tokenizer = tokenizers.Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        if (model_dir / built.ENCODER).exists():
            self._encoder = _session(model_dir / built.ENCODER, threads)
            self._decoder = _Decoder(_session(model_dir / built.DECODER_FIRST, threads),
                                     _session(model_dir / built.DECODER_CACHED, threads))
        else:
            self._encoder = _session(model_dir / built.SHIPPED_ENCODER, threads)
            merged = _session(model_dir / built.SHIPPED_DECODER, threads)
            self._decoder = _Decoder(merged, merged)
        self._encoder_inputs = {i.name for i in self._encoder.get_inputs()}
        self._lock = threading.Lock()

    def language_for(self, requested: str) -> str:
        """"en" for an English BCP-47 tag or ""; anything else raises InvalidRequest."""
        code = language_code(requested)
        if code != "en":
            raise InvalidRequest(
                f"ASR model {self.name} recognizes English only; language {requested!r} is not supported")
        return code

    def transcribe(self, samples: np.ndarray, language: str, timestamps: bool, background: bool = False,
                   cancelled: threading.Event | None = None) -> Transcript:
        """Recognizes 16 kHz float32 samples; `language` comes from `language_for`. Live decodes go one
        at a time; a `background` one (an offline clip, on a lower-priority thread) runs beside them
        rather than holding the lock for seconds (onnxruntime sessions take concurrent runs).
        `cancelled` set: RecognitionCancelled at the next decoder step, so the lock goes to the next decode."""
        kept, tokens, logprob_sum, no_speech = [], 0, 0.0, 1.0
        for start, end in windows(samples):
            span = samples[start:end]
            with contextlib.nullcontext() if background else self._lock:
                ids, logprobs, first_prob = self._decode(span, cancelled)
            text = _ARCHAIC.sub(r"\1o\2", self._tokenizer.decode(ids).strip(_NOTES + " \t\n"))
            tokens += len(logprobs)
            logprob_sum += sum(logprobs)
            avg = sum(logprobs) / len(logprobs)
            # An empty or notes-only decode is the model saying "no speech".
            window_no_speech = 1.0 - first_prob if text else 1.0
            why = hallucinations.rejection(text, avg, window_no_speech, _compression_ratio(text),
                                           hallucinations.loudest_dbfs(span))
            if why:
                log.info("dropped ASR window (%s): %r avg_logprob %.2f no_speech %.2f",
                         why, text, avg, window_no_speech)
                continue
            # Over kept windows only: an empty transcript reports 1.0, any kept speech counts.
            no_speech = min(no_speech, window_no_speech)
            kept.append(Segment(text, start * 1000 // MODEL_RATE, end * 1000 // MODEL_RATE))
        return Transcript(
            text=" ".join(s.text for s in kept),
            avg_logprob=logprob_sum / tokens if tokens else 0.0,
            no_speech_prob=no_speech,
            segments=tuple(kept) if timestamps else ())

    def _decode(self, samples: np.ndarray, cancelled: threading.Event | None = None
                ) -> tuple[list[int], list[float], float]:
        """Greedy token ids (no BOS/EOS), the log-probability of each step, the first token's probability."""
        RecognitionCancelled.raise_if(cancelled)  # before the encoder pass, the larger part of a short decode
        audio = np.zeros(max(samples.size, MIN_SAMPLES), np.float32)
        audio[:samples.size] = samples
        audio = audio[None]
        mask = np.ones(audio.shape, np.int64)
        feeds = {"input_values": audio, "attention_mask": mask}
        hidden = self._encoder.run(None, {k: v for k, v in feeds.items() if k in self._encoder_inputs})[0]
        limit = math.ceil(audio.shape[1] / MODEL_RATE * TOKENS_PER_SECOND) + TOKEN_MARGIN
        ids, logprobs, cache, token, first_prob = [], [], None, BOS, 0.0
        for _ in range(limit):
            RecognitionCancelled.raise_if(cancelled)
            logits, cache = self._decoder.step(token, hidden, mask, cache)
            shifted = logits - logits.max()
            logp = shifted - math.log(float(np.exp(shifted).sum()))
            token = int(logp.argmax())
            logprobs.append(float(logp[token]))
            if len(logprobs) == 1:
                first_prob = math.exp(logprobs[0])
            if token == EOS:
                break
            ids.append(token)
        return ids, logprobs, first_prob


def _compression_ratio(text: str) -> float:
    """Whisper's loop detector: repeated text compresses well."""
    data = text.encode()
    return len(data) / len(zlib.compress(data)) if data else 0.0


def windows(samples: np.ndarray, max_s: float = MAX_WINDOW_S, min_s: float = MIN_WINDOW_S) -> list[tuple[int, int]]:
    """(start, end) sample spans of at most `max_s`, cut where the smoothed frame energy is lowest."""
    max_len, min_len = int(max_s * MODEL_RATE), int(min_s * MODEL_RATE)
    if samples.size <= max_len:
        return [(0, samples.size)]
    n = samples.size // _FRAME
    energy = np.square(samples[:n * _FRAME].reshape(n, _FRAME), dtype=np.float64).mean(axis=1)
    energy = np.convolve(energy, np.ones(_SMOOTH_FRAMES) / _SMOOTH_FRAMES, mode="same")
    spans, start = [], 0
    while samples.size - start > max_len:
        lo, hi = (start + min_len) // _FRAME, (start + max_len) // _FRAME
        cut = (lo + int(np.argmin(energy[lo:hi]))) * _FRAME + _FRAME // 2
        spans.append((start, cut))
        start = cut
    spans.append((start, samples.size))
    return spans
