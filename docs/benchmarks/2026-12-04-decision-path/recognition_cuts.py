"""What Moonshine makes of a turn cut where the gateway cuts it, and with more of the silence after it.

    PYTHONPATH=. python docs/benchmarks/2026-12-04-decision-path/recognition_cuts.py light|default

Offline, on the benchmark's 40 turn-taking calls (the whole turn) and 72 pause calls (the first half):
the real encoder stage analyses 100 ms chunks of the caller audio as the gateway sends them (8 kHz
G.711 where the call is), the gateway's CallerTurn keeps the turn's audio, and the turn is recognised
at three points after its end: `early` (first chunk with 64 ms of pending silence, what the gateway
asks for), `end` (the VAD's confirmed end of speech) and `end+200`. Prints each transcript with its
end-of-turn LM score, then per case how often it ends in a comma, a question mark or a period and how
often the score reaches 0.5 (medium eagerness), and the WER of the whole turns.
"""
from __future__ import annotations

import collections
import sys

import jiwer
import numpy as np

from bench import scenarios
from bench.sources import RATE
from services.decider.end_of_turn import LlamaEndOfTurnEstimator
from services.encoder.stage import EncoderStage
from services.gateway.caller_turn import CallerTurn
from soundloop.audio import codec
from soundloop.encoder.v1 import encoder_pb2
from soundloop.settings import load_settings

PCM16 = codec.Format(codec.PCM16, 16000)
MULAW = codec.Format(codec.MULAW, 8000)
CUTS = ("early", "end", "end+200")


def _words(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c in " '").split())


def _cuts(stage: EncoderStage, scenario: scenarios.Scenario, label_s: float) -> dict[str, tuple[float, bytes]]:
    """The turn's audio at each cut point, with the cut's time after `label_s`; the client's 2 s of
    silence follow the scenario's audio. Stops where the caller speaks again."""
    fmt = MULAW if scenario.telephony else PCM16
    audio = np.concatenate([scenario.audio.astype(np.float32), np.zeros(2 * RATE, np.float32)])
    data = codec.encode(fmt, codec.resample(audio, RATE, fmt.sample_rate_hz))
    step = fmt.byte_count(100)
    caller, state, cuts, ended_at = CallerTurn(), b"", {}, None
    for i in range(0, len(data), step):
        chunk = stage._analyze(encoder_pb2.AnalyzeChunkRequest(format=fmt.to_proto(), audio=data[i:i + step],
                                                               stream_state=state))
        state = chunk.stream_state
        caller.listen(chunk)
        now = caller.audio.end
        after = now / RATE - label_s
        if after < -0.25 or not caller.is_open:
            continue
        if "early" in cuts and chunk.in_speech and not chunk.pending_silence_ms:
            break
        if "early" not in cuts and (not chunk.in_speech or chunk.pending_silence_ms >= 64):
            cuts["early"] = (after, caller.audio.turn_pcm())
        if "end" not in cuts and not chunk.in_speech:
            cuts["end"], ended_at = (after, caller.audio.turn_pcm()), now
        if ended_at is not None and now - ended_at >= 0.2 * RATE:
            cuts["end+200"] = (after, caller.audio.turn_pcm())
            break
    return cuts


def main(profile: str) -> None:
    settings = load_settings(profile=profile)
    stage = EncoderStage.from_settings(settings, warm_up=False)
    engine = stage.recognizers.for_language("en")[0]
    estimator = LlamaEndOfTurnEstimator.from_settings(settings)
    counts: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    pairs: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    for scenario in scenarios.build():
        if scenario.category == "turn_taking":
            case, label_s = "whole", scenario.speech_end_s
        elif scenario.category == "pause" and scenario.pause_s:
            case, label_s = "cut", scenario.pause_s[0]
        else:
            continue
        heard = []
        for name, (after, pcm) in _cuts(stage, scenario, label_s).items():
            text = engine.transcribe(codec.decode(PCM16, pcm), "en", False).text.strip()
            p_end = estimator.probability(text) if text else 0.0
            tally = counts[(case, name)]
            tally["n"] += 1
            tally["p_end>=0.5"] += p_end >= 0.5
            tally["comma" if text[-1:] in ",;:-" else "?" if text[-1:] in "?!" else "." if text[-1:] == "." else
                  "none"] += 1
            if case == "whole":
                pairs[name].append((_words(scenario.reference), _words(text) or "x"))
            heard.append(f"{name} {after * 1000:+.0f}: {text!r}:{p_end:.2f}")
        print(case, scenario.id, scenario.voice, "8k" if scenario.telephony else "", scenario.snr_db, "|",
              " ; ".join(heard), flush=True)
    for key in sorted(counts):
        print(key, dict(counts[key]))
    for name, cut_pairs in pairs.items():
        wer = jiwer.wer([a for a, _ in cut_pairs], [b for _, b in cut_pairs])
        print("WER whole", name, len(cut_pairs), round(wer, 3))


if __name__ == "__main__":
    main(sys.argv[1])
