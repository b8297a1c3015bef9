"""The offline tasks: transcribe a whole clip, or answer a question about one.

The same encoder that serves live calls transcribes and tags the clip in one
call; an answer adds one LLM call over what was perceived.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from soundloop.audio import codec
from soundloop.encoder.v1 import encoder_pb2
from soundloop.errors import InvalidRequest
from soundloop.llm.v1 import llm_pb2
from soundloop.v1 import interaction_pb2 as pb

from . import prompts
from .events import duration
from .perception_events import ms
from .stage_clients import StageClients

Charge = Callable[[float], Awaitable[None]]


class OfflineTasks:
    def __init__(self, stages: StageClients, max_clip_s: float = 600.0):
        self._stages = stages
        self._max_clip_s = max_clip_s  # clips share the encoder with live calls

    async def transcribe(self, request: pb.TranscribeRequest | pb.AnswerAboutClipRequest,
                         charge: Charge | None = None) -> pb.TranscribeResponse:
        """Raises InvalidRequest for a clip that cannot be decoded, or the encoder's error. `charge` is
        told the clip's seconds once it is known to be valid, before any work (a tenant's allowance)."""
        if not request.audio:
            raise InvalidRequest("audio is empty")
        fmt = codec.validate_format(codec.Format.from_proto(request.audio_format))
        codec.check_chunk(fmt, request.audio)
        seconds = fmt.duration_ms(len(request.audio)) / 1000
        if seconds > self._max_clip_s:
            raise InvalidRequest(f"the clip is {seconds:.0f} s of {fmt.describe()}; the limit is "
                                 f"{self._max_clip_s:.0f} s: send it in parts")
        if charge is not None:
            await charge(seconds)
        clip = await self._stages.transcribe_clip(encoder_pb2.TranscribeClipRequest(
            format=fmt.to_proto(), audio=request.audio, language=request.language or "en"))
        return pb.TranscribeResponse(
            text=clip.text, duration=duration(clip.duration_ms),
            segments=[pb.TranscriptSegment(text=s.text, start=duration(s.start_ms), end=duration(s.end_ms))
                      for s in clip.segments],
            sound_events=[pb.SoundEvent(label=t.label, score=t.score, start=duration(ms(t.start_sample)),
                                        end=duration(ms(t.end_sample))) for t in clip.sound_tags])

    async def answer(self, request: pb.AnswerAboutClipRequest,
                     charge: Charge | None = None) -> pb.AnswerAboutClipResponse:
        perception = await self.transcribe(request, charge)
        messages = prompts.about_clip(request.instruction, perception)
        answer = ""
        async for chunk in self._stages.generate(llm_pb2.GenerateRequest(messages=messages, turn_id="clip")):
            answer += chunk.delta
        return pb.AnswerAboutClipResponse(answer=answer.strip(), perception=perception)
