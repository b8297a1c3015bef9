"""What the caller is told about what was perceived: speech starts and stops, sounds, transcripts.

Each event carries the caller-audio time it refers to, on the session's 16 kHz
stream clock, so a client can line it up with the audio it sent.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from soundloop.audio.codec import MODEL_RATE
from soundloop.encoder.v1 import encoder_pb2
from soundloop.sound_classes import NOT_SOUNDS, domain_of
from soundloop.v1 import interaction_pb2 as pb

from .caller_turn import CallerTurn
from .events import duration

Event = tuple[float, dict[str, Any]]  # (audio offset in ms, the ConverseResponse field to set)


def ms(sample: int) -> float:
    return sample / MODEL_RATE * 1000


def of_chunk(boundaries: Iterable[encoder_pb2.SpeechBoundary],
             sound_tags: Iterable[encoder_pb2.SoundTag]) -> Iterator[Event]:
    for boundary in boundaries:
        if boundary.kind == encoder_pb2.BOUNDARY_KIND_SPEECH_START:
            yield ms(boundary.sample), {"speech_started": pb.SpeechStarted()}
        else:
            yield ms(boundary.sample), {"speech_stopped": pb.SpeechStopped()}
    for tag in sound_tags:
        if tag.label not in NOT_SOUNDS:  # speech is reported as transcripts, not as a sound
            yield ms(tag.end_sample), {"sound_event": pb.SoundEvent(
                label=tag.label, score=tag.score, start=duration(ms(tag.start_sample)),
                end=duration(ms(tag.end_sample)), domain=domain_of(tag.label))}


def transcript(caller: CallerTurn, is_final: bool, stability: float) -> pb.Transcript:
    """The open turn's newest transcript, from the turn's start to where its recognition reaches."""
    return pb.Transcript(text=caller.text, is_final=is_final, stability=stability, utterance=caller.utterance,
                         start=duration(ms(caller.audio.turn_start or 0)),
                         end=duration(ms(caller.transcript.until)))
