"""A caller for soundloop's public API: streams audio in 20 ms frames at real-time
pace (or faster), like a phone line would, and records every event with the
wall-clock time it arrived. Used by the CLI, the tests and the benchmarks.
"""
from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable

import grpc
import numpy as np

from soundloop.audio import codec
from soundloop.grpc_server import MAX_MESSAGE_BYTES
from soundloop.v1 import audio_pb2, interaction_pb2 as pb, interaction_pb2_grpc

FRAME_MS = 20


@dataclasses.dataclass
class ReceivedEvent:
    at: float  # seconds since the first audio frame was sent
    event: pb.ConverseResponse

    @property
    def kind(self) -> str:
        return self.event.WhichOneof("event")


@dataclasses.dataclass
class CallerScript:
    """What the caller does: audio (float32 at `rate`), typed texts at audio offsets (s)."""
    audio: np.ndarray
    rate: int
    texts: list[tuple[float, str]] = dataclasses.field(default_factory=list)
    # After the audio: keep streaming silence until the replies are done, at most this long.
    tail_s: float = 8.0
    # Once the audio is sent, stop as soon as this many reply turns have ended.
    stop_after_turns: int | None = 1
    # Talk over the first reply: this audio (at `rate`) starts `barge_in_delay_s`
    # after the first reply audio arrives.
    barge_in: np.ndarray | None = None
    barge_in_delay_s: float = 0.6
    # Report playback like a real client: "heard up to sample N", this far behind what arrived
    # (the client's jitter buffer). None: send no reports.
    playback_lag_s: float | None = None
    # Hang up (cancel the call) `linger_s` after the first audio of the `stop_after_replies`-th
    # reply turn, or `hang_up_after_barge_in_s` after the barge-in audio started.
    stop_after_replies: int | None = None
    linger_s: float = 0.5
    hang_up_after_barge_in_s: float | None = None


@dataclasses.dataclass
class ConversationRecord:
    events: list[ReceivedEvent]
    reply_audio: bytearray
    output_format: audio_pb2.AudioFormat | None
    session_id: str = ""
    resume_token: str = ""
    audio_sent_at: float = 0.0  # when the script's audio (not the trailing silence) was all sent
    barge_in_at: float | None = None  # when the barge-in audio started
    hung_up: bool = False  # the caller cancelled the call (CallerScript's hang-up rules)
    audio_sent_s: float = 0.0  # caller audio sent in all, trailing silence and barge-in included

    def of(self, kind: str) -> list[ReceivedEvent]:
        return [e for e in self.events if e.kind == kind]

    def final_transcripts(self) -> list[str]:
        return [e.event.transcript.text for e in self.of("transcript") if e.event.transcript.is_final]

    def actions(self) -> list[int]:
        return [e.event.decision.action for e in self.of("decision")]

    def reply_text(self) -> str:
        return "".join(e.event.reply_text.delta for e in self.of("reply_text"))


def channel(address: str, *, tls_ca: str = "", tls_cert: str = "", tls_key: str = "",
            tls: bool | None = None) -> grpc.aio.Channel:
    """A channel to a gateway: TLS when `tls` (default: when any TLS file is given), trusting `tls_ca`
    (default: the system's roots) and presenting `tls_cert`/`tls_key` where the server asks for mTLS."""
    options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
               ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)]
    if not (tls if tls is not None else bool(tls_ca or tls_cert)):
        return grpc.aio.insecure_channel(address, options=options)

    def read(path: str) -> bytes | None:
        if not path:
            return None
        with open(path, "rb") as f:
            return f.read()
    credentials = grpc.ssl_channel_credentials(read(tls_ca), read(tls_key), read(tls_cert))
    return grpc.aio.secure_channel(address, credentials, options=options)


def auth_metadata(api_key: str) -> tuple[tuple[str, str], ...]:
    """The metadata that carries an API key (none without one)."""
    return (("authorization", f"Bearer {api_key}"),) if api_key else ()


def _frames(script: CallerScript, fmt: codec.Format) -> list[bytes]:
    audio = codec.resample(script.audio.astype(np.float32), script.rate, fmt.sample_rate_hz)
    data = codec.encode(fmt, audio)
    step = fmt.byte_count(FRAME_MS)
    return [data[i:i + step] for i in range(0, len(data), step)]


async def converse(address: str, config: pb.SessionConfig, script: CallerScript, *, speed: float = 1.0,
                   on_event: Callable[[ReceivedEvent], None] | None = None,
                   metadata: tuple[tuple[str, str], ...] = (), tls: dict[str, str] | None = None) -> ConversationRecord:
    """Runs one conversation and returns everything the server sent. `metadata` goes with the call
    (`auth_metadata(api_key)`; a W3C `traceparent`, which makes the session's spans part of the caller's
    trace). `tls`: `channel`'s TLS arguments (tls_ca, tls_cert, tls_key)."""
    fmt = codec.validate_format(codec.Format.from_proto(config.input_audio))
    frames = _frames(script, fmt)
    silence = codec.encode(fmt, np.zeros(fmt.sample_rate_hz * FRAME_MS // 1000, dtype=np.float32))
    record = ConversationRecord([], bytearray(), None)
    barge_in = _frames(dataclasses.replace(script, audio=script.barge_in), fmt) if script.barge_in is not None else []

    def replies_done() -> bool:
        ended = sum(1 for e in record.events if e.kind in ("turn_completed", "turn_interrupted"))
        return script.stop_after_turns is not None and ended >= script.stop_after_turns

    def hang_up_due(now: float) -> bool:
        if script.stop_after_replies is not None:
            firsts = _reply_starts(record)
            if len(firsts) >= script.stop_after_replies and now >= firsts[script.stop_after_replies - 1] + \
                    script.linger_s:
                return True
        return (script.hang_up_after_barge_in_s is not None and record.barge_in_at is not None
                and now >= record.barge_in_at + script.hang_up_after_barge_in_s)
    started = time.monotonic()
    hang_up = asyncio.Event()
    opened = asyncio.Event()  # the first event arrived (or the call ended)

    reports: list[pb.PlaybackReport] = []

    def drain_reports():
        while reports:
            yield pb.ConverseRequest(playback=reports.pop(0))

    async def requests():
        nonlocal barge_in
        yield pb.ConverseRequest(config=config)
        # Audio only once the session is open: a refused session's status then reaches this client as sent
        # (an asyncio client writing as the server ends the call sees INTERNAL instead, grpc/grpc#36066).
        await opened.wait()
        texts = sorted(script.texts)
        for i, frame in enumerate(frames):
            offset = i * FRAME_MS / 1000
            while texts and texts[0][0] <= offset:
                yield pb.ConverseRequest(text=pb.TextInput(text=texts.pop(0)[1]))
            await _pace(started, offset, speed)
            yield pb.ConverseRequest(audio=pb.AudioChunk(data=frame))
            record.audio_sent_s += FRAME_MS / 1000
            for report in drain_reports():
                yield report
        record.audio_sent_at = time.monotonic() - started
        for _, text in texts:
            yield pb.ConverseRequest(text=pb.TextInput(text=text))
        deadline = time.monotonic() + script.tail_s
        offset = len(frames) * FRAME_MS / 1000
        while time.monotonic() < deadline and not replies_done():
            await _pace(started, offset, speed)
            if hang_up_due(time.monotonic() - started):
                hang_up.set()
                return
            first_audio = next((e.at for e in record.events if e.kind == "reply_audio"), None)
            now = time.monotonic() - started
            due = barge_in and first_audio is not None and now >= first_audio + script.barge_in_delay_s
            if due:
                record.barge_in_at = time.monotonic() - started
                deadline += len(barge_in) * FRAME_MS / 1000
            frames_now, barge_in = (barge_in, []) if due else ([silence], barge_in)
            for frame in frames_now:
                await _pace(started, offset, speed)
                yield pb.ConverseRequest(audio=pb.AudioChunk(data=frame))
                record.audio_sent_s += FRAME_MS / 1000
                for report in drain_reports():
                    yield report
                offset += FRAME_MS / 1000
        yield pb.ConverseRequest(end_of_input=pb.EndOfInput())

    async with channel(address, **(tls or {})) as ch:
        call = interaction_pb2_grpc.InteractionStub(ch).Converse(requests(), metadata=metadata or None)
        watcher = asyncio.create_task(_cancel_on(hang_up, call))
        try:
            await _receive(call, record, script, reports, started, on_event, opened)
        except asyncio.CancelledError:
            if not hang_up.is_set():
                raise
        finally:
            opened.set()
            watcher.cancel()
        record.hung_up = hang_up.is_set()
    return record


def _reply_starts(record: ConversationRecord) -> list[float]:
    """When the first audio of each reply turn arrived, in order."""
    firsts: dict[str, float] = {}
    for e in record.of("reply_audio"):
        firsts.setdefault(e.event.reply_audio.turn_id, e.at)
    return list(firsts.values())


async def _cancel_on(hang_up: asyncio.Event, call) -> None:
    await hang_up.wait()
    call.cancel()


async def _receive(call, record: ConversationRecord, script: CallerScript, reports: list, started: float,
                   on_event: Callable[[ReceivedEvent], None] | None, opened: asyncio.Event) -> None:
    async for event in call:
        opened.set()
        received = ReceivedEvent(time.monotonic() - started, event)
        record.events.append(received)
        kind = received.kind
        if kind == "session_started":
            record.session_id = event.session_started.session_id
            record.resume_token = event.session_started.resume_token
            record.output_format = event.session_started.output_audio
        elif kind == "reply_audio":
            record.reply_audio += event.reply_audio.data
            if script.playback_lag_s is not None:
                reports.append(_playback_report(event.reply_audio, record.output_format, script.playback_lag_s))
        if on_event:
            on_event(received)


def _playback_report(audio: pb.ReplyAudio, fmt: audio_pb2.AudioFormat, lag_s: float) -> pb.PlaybackReport:
    bytes_per_sample = 2 if fmt.encoding == audio_pb2.AUDIO_ENCODING_PCM16LE else 1
    arrived = audio.start_sample + len(audio.data) // bytes_per_sample
    return pb.PlaybackReport(turn_id=audio.turn_id,
                             samples_played=max(0, arrived - int(lag_s * fmt.sample_rate_hz)))


async def _pace(started: float, offset_s: float, speed: float) -> None:
    if speed <= 0:
        return
    delay = started + offset_s / speed - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
