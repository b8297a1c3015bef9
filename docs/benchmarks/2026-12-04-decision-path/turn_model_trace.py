"""The learned turn model, chunk by chunk, on benchmark calls: what it sees and its P(turn over).

    PYTHONPATH=. python docs/benchmarks/2026-12-04-decision-path/turn_model_trace.py turn-012,turn-039 [--noise-tail]

Offline, light profile: the real encoder stage analyses the caller's 100 ms chunks (the client's 2 s of
digital silence after the call's audio, or with --noise-tail the call's last 200 ms repeated, so a noisy
line stays noisy), the turn is recognised (Moonshine tiny) where the gateway asks, one chunk later the
end-of-turn LM scores it, and the shipped model steps once per chunk, as the decider does. Prints, from
0.6 s before the labelled end: VAD state, pending and confirmed silence, chunk prosody, transcript,
p_end and P(respond).
"""
from __future__ import annotations

import sys

import numpy as np

from bench import scenarios
from bench.sources import RATE
from services.decider import turn_model
from services.decider.end_of_turn import LlamaEndOfTurnEstimator
from services.encoder.stage import EncoderStage
from services.gateway.caller_turn import COVER_TOLERANCE, CallerTurn
from soundloop.audio import codec
from soundloop.decider.v1 import decider_pb2
from soundloop.encoder.v1 import encoder_pb2
from soundloop.settings import load_settings

PCM16 = codec.Format(codec.PCM16, 16000)
MULAW = codec.Format(codec.MULAW, 8000)


def trace(stage: EncoderStage, estimator, model: turn_model.TurnModel, scenario: scenarios.Scenario,
          noise_tail: bool) -> None:
    fmt = MULAW if scenario.telephony else PCM16
    tail = (np.tile(scenario.audio[-RATE // 5:], 10) if noise_tail else np.zeros(2 * RATE)).astype(np.float32)
    audio = np.concatenate([scenario.audio.astype(np.float32), tail])
    data = codec.encode(fmt, codec.resample(audio, RATE, fmt.sample_rate_hz))
    engine = stage.recognizers.for_language("en")[0]
    caller, state, hidden = CallerTurn(), b"", []
    text, p_end, asked, asked_until = None, None, None, -1
    print(scenario.id, repr(scenario.reference), scenario.voice, scenario.snr_db, "8k" if scenario.telephony else "")
    step = fmt.byte_count(100)
    for i in range(0, len(data), step):
        chunk = stage._analyze(encoder_pb2.AnalyzeChunkRequest(format=fmt.to_proto(), audio=data[i:i + step],
                                                               stream_state=state))
        state = chunk.stream_state
        caller.listen(chunk)
        if asked is not None:  # answered by the next chunk
            text = engine.transcribe(asked, "en", False).text.strip()
            p_end, asked = (estimator.probability(text) if text else None), None
        quiet = caller.quiet_from is not None and (not chunk.in_speech or chunk.pending_silence_ms >= 64)
        # As the gateway: asked again only when the last recognition does not reach the quiet's start.
        if caller.is_open and quiet and asked_until < caller.quiet_from - COVER_TOLERANCE:
            asked_until, asked, p_end = caller.audio.end, codec.decode(PCM16, caller.audio.turn_pcm()), None
        obs = decider_pb2.Observation(in_speech=chunk.in_speech, speech_ms=chunk.speech_ms,
                                      silence_ms=chunk.silence_ms, prosody=chunk.prosody)
        probs, hidden = model.step(hidden, turn_model.features(obs, None if chunk.in_speech else p_end))
        after = caller.audio.end / RATE - scenario.speech_end_s
        if -0.6 < after < 2.0:
            p = chunk.prosody
            print(f"{after * 1000:+6.0f} ms speech={int(chunk.in_speech)} pending={chunk.pending_silence_ms:3d} "
                  f"silence={chunk.silence_ms:4d} vad={p.vad_probability:.2f} energy={p.energy_db:6.1f} "
                  f"voiced={p.voiced:.2f} pitch={p.pitch_semitones:5.1f} text={text!r} "
                  f"p_end={'-' if p_end is None else f'{p_end:.2f}'} P(respond)={probs[turn_model.RESPOND]:.2f}")


def main() -> None:
    ids = set(sys.argv[1].split(","))
    settings = load_settings(profile="light")
    stage = EncoderStage.from_settings(settings, warm_up=False)
    estimator = LlamaEndOfTurnEstimator.from_settings(settings)
    model = turn_model.TurnModel()
    for scenario in scenarios.build():
        if scenario.id in ids:
            trace(stage, estimator, model, scenario, "--noise-tail" in sys.argv)


if __name__ == "__main__":
    main()
