"""What a conversation works through, one message at a time: typed messages on two lanes.

Caller audio waits in a bounded lane. When the stages fall behind, the stream
reader waits for room instead of buffering without limit or dropping audio, and
gRPC flow control then slows the caller down. Everything else goes on the
control lane, which is always served first: typed text is answered, and a
finished recognition or reply is acted on, without waiting behind seconds of
queued audio. End of input is seen at once too; the conversation still works
through the audio that came before it (see Conversation).
"""
from __future__ import annotations

import asyncio
import collections
import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .reply import ReplyTurn


@dataclasses.dataclass(frozen=True)
class CallerChunk:
    """`chunk_ms` of caller audio in the caller's encoding (the last one of a call may be shorter)."""
    data: bytes


@dataclasses.dataclass(frozen=True)
class TypedText:
    text: str


@dataclasses.dataclass(frozen=True)
class EndOfInput:
    """The caller will send nothing more."""


@dataclasses.dataclass(frozen=True)
class Recognized:
    """A recognition of the open caller turn, up to stream sample `until`."""
    text: str
    until: int
    utterance: int
    ran: tuple[float, float]  # clock times the recognition call started and returned


@dataclasses.dataclass(frozen=True)
class RecognitionFailed:
    utterance: int
    code: str  # the gRPC status code name of the failure
    message: str  # safe to show the caller (soundloop.errors.status_of)


@dataclasses.dataclass(frozen=True)
class ReplyFinished:
    """A reply turn's task ended: spoken to the end, or failed."""
    reply: ReplyTurn


Control = TypedText | EndOfInput | Recognized | RecognitionFailed | ReplyFinished
Message = CallerChunk | Control


class Inbox:
    def __init__(self, audio_capacity: int):
        self._audio: asyncio.Queue[CallerChunk] = asyncio.Queue(max(1, audio_capacity))
        self._control: collections.deque[Control] = collections.deque()
        self._arrived = asyncio.Event()

    async def put_audio(self, chunk: CallerChunk) -> None:
        """Waits while the audio lane is full."""
        await self._audio.put(chunk)
        self._arrived.set()

    def put_control(self, message: Control) -> None:
        self._control.append(message)
        self._arrived.set()

    @property
    def pending_texts(self) -> int:
        return sum(isinstance(m, TypedText) for m in self._control)

    @property
    def audio_chunks_queued(self) -> int:
        return self._audio.qsize()

    @property
    def audio_pending(self) -> bool:
        return not self._audio.empty()

    @property
    def empty(self) -> bool:
        return not self._control and self._audio.empty()

    async def get(self) -> Message:
        while True:
            if self._control:
                return self._control.popleft()
            if not self._audio.empty():
                return self._audio.get_nowait()  # also wakes a reader waiting for room
            self._arrived.clear()
            await self._arrived.wait()
