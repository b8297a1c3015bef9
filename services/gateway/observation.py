"""What the decider is shown, per chunk and whenever a transcript or typed text arrives.

One pure function, so the decider's test timeline (tests/decider/decider_timeline.py)
feeds the policy exactly what the gateway sends.
"""
from __future__ import annotations

from soundloop.decider.v1 import decider_pb2
from soundloop.encoder.v1 import encoder_pb2

from .caller_turn import CallerTurn


def observation(now_ms: float, caller: CallerTurn, reply: decider_pb2.ReplyState,
                chunk: encoder_pb2.AnalyzeChunkResponse | None = None, text_input: str = "") -> decider_pb2.Observation:
    """`chunk`: the chunk just analyzed (its boundaries and sound tags), or None between chunks,
    when the last chunk's speech activity still holds."""
    obs = decider_pb2.Observation(
        now_ms=int(now_ms), in_speech=caller.in_speech, speech_ms=caller.speech_ms, silence_ms=caller.silence_ms,
        utterance=caller.utterance if caller.is_open else 0, reply=reply, text_input=text_input,
        turn_speech_ms=caller.turn_speech_ms)
    if chunk is not None:
        obs.boundaries.extend(chunk.boundaries)
        obs.sound_tags.extend(chunk.sound_tags)
        obs.prosody.CopyFrom(chunk.prosody)
    # Once the caller is quiet, a transcript that stops short of the end of speech is stale: judging
    # the end of the turn on it would answer half a sentence, so it is held back until one covers the
    # turn. While the caller speaks (end-of-turn prefetch) or talks over a reply (backchannel or
    # barge-in), the newest words are what matters.
    if caller.is_open and (caller.covered or caller.in_speech or reply.active):
        obs.transcript = caller.text
        obs.transcript_is_final = caller.covered
    return obs
