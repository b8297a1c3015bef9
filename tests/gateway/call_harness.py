"""One call through the real Conversation, its real EventSink and SessionStore (real Redis), on
scripted stages and virtual time: the orchestration without models, gRPC or a real-time wait.

    call = await Call.open(store, stages)
    await call.stream(4.0)            # 4 s of caller audio in 20 ms frames, at real-time pace
    await call.end_of_input()         # or: await call.hang_up()
    call.of("turn_completed")
"""
from __future__ import annotations

import asyncio
import dataclasses

from services.gateway.conversation import Conversation
from services.gateway.events import EventSink
from services.gateway.session_store import SessionStore
from soundloop.settings import GatewaySettings
from soundloop.v1 import audio_pb2, interaction_pb2 as pb
from tests.support.virtual_time import run_virtual, virtual_time_redis

from .scripted_stages import ScriptedStages

PCM16K = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)
FRAME_S = 0.02
FRAME = b"\x00\x00" * 320  # 20 ms of 16 kHz PCM16: its content is the scripted encoder's business


@dataclasses.dataclass(frozen=True)
class Event:
    at: float  # virtual time the event left the gateway
    event: pb.ConverseResponse

    @property
    def kind(self) -> str:
        return self.event.WhichOneof("event")

    @property
    def offset_s(self) -> float:
        return self.event.audio_offset.ToMilliseconds() / 1000


class Call:
    def __init__(self, conversation: Conversation, sink: EventSink, session_id: str, resume_token: str):
        self.conversation = conversation
        self.session_id, self.resume_token = session_id, resume_token
        self._sink = sink
        self.events: list[Event] = []
        self.sent_s = 0.0  # caller audio streamed so far on this connection
        self._reader = asyncio.create_task(self._read())
        self._reporter: asyncio.Task | None = None
        self.reports: list[tuple[float, str, int]] = []  # (when, turn id, samples played) of playback reports

    @classmethod
    async def open(cls, store: SessionStore, stages: ScriptedStages, resume_token: str = "",
                   settings: GatewaySettings | None = None, **config) -> Call:
        if resume_token:
            snapshot = await store.load(resume_token)
        else:
            snapshot = await store.create(pb.SessionConfig(input_audio=PCM16K, output_audio=PCM16K, **config))
        sink = EventSink(store, snapshot.session_id, snapshot.last_sequence, send_timeout_s=10, owner=snapshot.owner)
        sink.start()
        conversation = Conversation(snapshot, stages, store, sink, settings or GatewaySettings())
        conversation.start()
        return cls(conversation, sink, snapshot.session_id, snapshot.resume_token)

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self.events.append(Event(loop.time(), await self._sink.outbox.get()))

    async def stream(self, seconds: float) -> None:
        """Streams `seconds` of caller audio in 20 ms frames at real-time pace."""
        for _ in range(round(seconds / FRAME_S)):
            await self.conversation.add_audio(FRAME)
            self.sent_s += FRAME_S
            await asyncio.sleep(FRAME_S)

    def report_playback(self, lag_s: float) -> asyncio.Task:
        """Plays reply audio `lag_s` behind its arrival and says so every 100 ms, as a client would."""
        async def report():
            loop = asyncio.get_running_loop()
            while True:
                await asyncio.sleep(0.1)
                played: dict[str, int] = {}
                for e in self.of("reply_audio"):
                    if e.at <= loop.time() - lag_s:
                        turn = e.event.reply_audio.turn_id
                        played[turn] = played.get(turn, 0) + len(e.event.reply_audio.data) // 2
                for turn_id, samples in played.items():
                    self.conversation.add_playback(pb.PlaybackReport(turn_id=turn_id, samples_played=samples))
                    self.reports.append((loop.time(), turn_id, samples))
        self._reporter = asyncio.create_task(report())
        return self._reporter

    async def end_of_input(self, timeout_s: float = 120) -> None:
        """Says the caller is done and waits until the conversation has finished everything."""
        await self.conversation.end_of_input()
        await asyncio.wait_for(self.conversation.finished.wait(), timeout_s)
        await self._close()

    async def hang_up(self) -> None:
        await self._close()

    async def _close(self) -> None:
        await self.conversation.close()
        await self._sink.close()
        self._reader.cancel()
        if self._reporter:
            self._reporter.cancel()
        loop = asyncio.get_running_loop()
        while not self._sink.outbox.empty():
            self.events.append(Event(loop.time(), self._sink.outbox.get_nowait()))
        if self.conversation.worker.done() and not self.conversation.worker.cancelled():
            error = self.conversation.worker.exception()
            if error is not None:
                raise error

    # ------------------------------------------------------------ reading the record

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    def actions(self) -> list[str]:
        return [pb.Action.Name(e.event.decision.action).removeprefix("ACTION_") for e in self.of("decision")]

    def first(self, kind: str, after: float = -1.0) -> Event | None:
        return next((e for e in self.of(kind) if e.at > after), None)

    def reported(self, turn_id: str, before: float) -> int:
        """Samples of `turn_id` the last playback report before `before` said were played."""
        return max((n for at, turn, n in self.reports if turn == turn_id and at < before), default=0)

    def reply_text(self, turn_id: str) -> str:
        return "".join(e.event.reply_text.delta for e in self.of("reply_text") if e.event.reply_text.turn_id == turn_id)

    def audio_samples(self, turn_id: str) -> int:
        return sum(len(e.event.reply_audio.data) // 2 for e in self.of("reply_audio")
                   if e.event.reply_audio.turn_id == turn_id)


def on_virtual_time(redis_url: str, scenario) -> None:
    """Runs `scenario(store)` on virtual time against a SessionStore on the real Redis at `redis_url`."""
    async def main():
        store = virtual_time_redis(redis_url)
        try:
            await scenario(store)
        finally:
            await store.close()
    run_virtual(main())
