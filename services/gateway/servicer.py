"""The public soundloop.v1.Interaction service: protos in, events out, errors to status codes.

Converse opens or resumes the session, feeds the caller's messages to its
Conversation and streams the events back; Transcribe and AnswerAboutClip hand
the clip to OfflineTasks. Stream-level problems (no config, bad config, unknown resume token, capacity)
end the call with a status code. Problems with one message (odd byte count,
oversized chunk, undecodable bytes) are reported as an Error event naming the
message, and the session goes on.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging

import grpc

from soundloop import metrics, telemetry
from soundloop.audio import codec
from soundloop.decider.v1 import decider_pb2
from soundloop.errors import (
    InvalidRequest,
    PermissionDenied,
    SoundloopError,
    Status,
    Unauthenticated,
    errors_as_status,
    status_of,
)
from soundloop.settings import Settings
from soundloop.v1 import interaction_pb2 as pb

from . import session_tracing
from .access import Access, Tenant
from .conversation import Conversation
from .events import EventSink
from .offline import OfflineTasks
from .session_config import InvalidConfig, check_audio_chunk, check_text, normalize_config
from .session_store import SessionNotFound, SessionStore, SessionStoreUnavailable, new_session_id
from .stage_clients import StageClients
from .tenant_limits import TenantLimits

log = logging.getLogger(__name__)

CONFIG_TIMEOUT_S = 10.0
SERVICE_NAME = "soundloop.v1.Interaction"
WHERE = "gateway"  # what an unexpected exception's message names (soundloop.errors.status_of)


class Undecodable:
    """Stands in for a message whose bytes are not a valid protobuf, so the stream can say so."""

    def __init__(self, size: int, error: str):
        self.size, self.error = size, error


# A Converse message is a config (instructions <= 8000 characters), <= 200 ms of audio or a typed
# text: far below this. The server's own limit is sized for offline clips.
MAX_CONVERSE_MESSAGE_BYTES = 256 * 1024


def tolerant(message_type, max_bytes: int | None = None):
    def deserialize(data: bytes):
        if max_bytes is not None and len(data) > max_bytes:
            return Undecodable(len(data), f"the message is over the {max_bytes // 1024} KiB limit")
        try:
            return message_type.FromString(data)
        except Exception as err:
            return Undecodable(len(data), str(err))
    return deserialize


DRAINING = Status(grpc.StatusCode.UNAVAILABLE, "this gateway is shutting down; resume the session with its "
                                                "resume_token to go on (another gateway takes it)")


def _rejected(reason: str) -> None:
    metrics.SESSIONS.add(1, {"outcome": "rejected", "reason": reason})


class InteractionServicer:
    def __init__(self, stages: StageClients, store: SessionStore, settings: Settings, access: Access):
        self._stages = stages
        self._offline = OfflineTasks(stages, settings.gateway.max_clip_s)
        self._store = store
        self._access = access
        self._limits = TenantLimits(store.client)
        self._settings = settings
        self._active = 0
        self._opening = 0
        self._draining = asyncio.Event()

    def drain(self) -> None:
        """The gateway is stopping: every live session saves its progress and ends UNAVAILABLE,
        which callers resume from on another gateway; new sessions are refused the same way."""
        self._draining.set()

    # ------------------------------------------------------------ Converse

    async def _identify(self, context: grpc.aio.ServicerContext) -> Tenant:
        """The caller's tenant, before anything else happens; UNAUTHENTICATED without valid credentials."""
        try:
            return self._access.identify(context.invocation_metadata())
        except Unauthenticated as err:
            _rejected("unauthenticated")
            await context.abort(err.code, str(err))

    async def Converse(self, request_iterator, context: grpc.aio.ServicerContext):
        # The first message is read (not judged) before the credentials: a status sent while the caller's
        # first write is in flight reaches Python asyncio clients as INTERNAL, not as ours (grpc/grpc#36066).
        if self._opening >= self._settings.gateway.max_sessions:
            _rejected("capacity")
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "too many calls opening at once; retry later")
        self._opening += 1  # streams that have not sent their first message yet: capped like sessions
        try:
            first = await self._first_message(request_iterator, context)
        finally:
            self._opening -= 1
        tenant = await self._identify(context)
        config = await self._config_of(first, context)
        if self._draining.is_set():
            _rejected("draining")
            await context.abort(*DRAINING)
        if self._active >= self._settings.gateway.max_sessions:
            _rejected("capacity")
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                f"gateway at capacity ({self._settings.gateway.max_sessions} sessions); retry later")
        self._active += 1
        metrics.SESSIONS_ACTIVE.add(1)
        try:
            async with errors_as_status(context, WHERE, "Converse"):
                async for event in self._converse(tenant, config, request_iterator, context):
                    yield event
        finally:
            self._active -= 1
            metrics.SESSIONS_ACTIVE.add(-1)

    @staticmethod
    async def _first_message(request_iterator, context):
        try:
            return await asyncio.wait_for(anext(request_iterator), CONFIG_TIMEOUT_S)
        except StopAsyncIteration:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "empty stream: the first message must be `config`")
        except TimeoutError:
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED,
                                f"no `config` within {CONFIG_TIMEOUT_S:.0f} s of opening the stream")

    @staticmethod
    async def _config_of(first, context) -> pb.SessionConfig:
        if isinstance(first, Undecodable):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                f"first message ({first.size} bytes) is not a ConverseRequest: {first.error}")
        kind = first.WhichOneof("message")
        if kind != "config":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                f"the first message must be `config`, got `{kind or 'empty message'}`")
        return first.config

    async def _open(self, tenant: Tenant, config: pb.SessionConfig, context, slot: contextlib.AsyncExitStack):
        """The session, new or resumed, holding one of its tenant's session slots (in `slot`)."""
        if config.resume_token:
            try:  # the tenant is checked before the session is claimed: a refused resume changes nothing
                sid = await self._store.session_of(config.resume_token, tenant.name)
            except SessionNotFound as err:
                _rejected("resume_not_found")
                await context.abort(err.code, f"{err}; start a new session without resume_token")
            except PermissionDenied as err:
                _rejected("wrong_tenant")
                await context.abort(err.code, str(err))
            await slot.enter_async_context(self._limits.session_slot(tenant, sid))
            return await self._store.load(config.resume_token, tenant.name, sid), True
        try:
            normalized = normalize_config(config, self._settings.encoder)
            check_caller_instructions(tenant, normalized.instructions)
        except (InvalidConfig, PermissionDenied) as err:
            _rejected("invalid_config")
            await context.abort(err.code, str(err))
        await self._check_policy(normalized, context)
        sid = new_session_id(tenant.name)
        await slot.enter_async_context(self._limits.session_slot(tenant, sid))
        return await self._store.create(normalized, tenant.name, sid), False

    async def _check_policy(self, config: pb.SessionConfig, context) -> None:
        """Lets the decider, which alone validates policy, reject a bad one before any audio flows."""
        try:
            await self._stages.decide(decider_pb2.DecideRequest(
                observation=decider_pb2.Observation(), policy=decider_pb2.DeciderPolicy(
                    turn_detection=config.turn_detection, sound_policy=config.sound_policy,
                    response=config.response)))
        except InvalidRequest as err:
            _rejected("invalid_policy")
            await context.abort(err.code, f"config rejected by the decider: {err}")
        except SoundloopError as err:  # the decider could not judge it: its own code (UNAVAILABLE, ...)
            await context.abort(*status_of(err, WHERE))

    async def _converse(self, tenant: Tenant, config, request_iterator, context):
        async with contextlib.AsyncExitStack() as slot:
            snapshot, resumed = await self._open(tenant, config, context, slot)
            async for event in self._run(tenant, snapshot, resumed, config, request_iterator, context):
                yield event

    async def _run(self, tenant: Tenant, snapshot, resumed: bool, config, request_iterator, context):
        metrics.SESSIONS.add(1, {"outcome": "resumed" if resumed else "started"})
        if resumed:  # straight to the caller: the replay may be longer than the outbox
            for event in await self._store.events_after(snapshot.session_id, config.replay_after_sequence):
                yield event
        # A gateway killed between sending an event and logging it leaves the caller with a number the
        # log lacks: new numbers go on after the higher of the two, so none is given out twice.
        last_sequence = max(snapshot.last_sequence, config.replay_after_sequence if resumed else 0)
        sink = EventSink(self._store, snapshot.session_id, last_sequence,
                         self._settings.gateway.send_timeout_s, snapshot.owner)
        sink.start()
        conversation = Conversation(snapshot, self._stages, self._store, sink, self._settings.gateway,
                                    operator_instructions=tenant.instructions)
        await sink.emit(snapshot.audio_ms, session_started=pb.SessionStarted(
            session_id=snapshot.session_id, resume_token=snapshot.resume_token, resumed=resumed,
            output_audio=snapshot.config.output_audio))
        if resumed and snapshot.open_reply:
            # The connection that spoke it ended mid-reply without saying so (its gateway died): the
            # reply is over. What was heard of it is not known here, so none of it enters the history.
            await sink.emit(snapshot.audio_ms, turn_interrupted=pb.TurnInterrupted(turn_id=snapshot.open_reply))
        session_span = session_tracing.open_session(snapshot.session_id, resumed, context.invocation_metadata())
        # The tasks copy the current context as they are created: every stage call they make is in the session.
        with telemetry.within(session_span, session_id=snapshot.session_id):
            conversation.start()
            reader = asyncio.create_task(self._read(request_iterator, conversation, sink), name="converse-reader")
            finished = asyncio.create_task(conversation.finished.wait(), name="converse-finished")
        draining = asyncio.create_task(self._draining.wait(), name="converse-draining")
        failure: tuple[grpc.StatusCode, str] | None = None
        try:
            while failure is None:
                getter = asyncio.create_task(sink.outbox.get())
                waits = {getter, finished, draining} | ({reader} if not reader.done() else set())
                done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    yield getter.result()
                    continue
                getter.cancel()
                if draining in done:
                    failure = DRAINING
                elif reader in done:
                    failure = self._failure_of(reader)
                elif finished in done:
                    failure = self._failure_of(conversation.worker)
                    break
            await conversation.close()
            await sink.close()
            if failure is None:  # the caller ended it: no resume to wait for
                with contextlib.suppress(SessionStoreUnavailable):
                    await self._store.ended(snapshot.session_id, snapshot.resume_token)
            while failure is None and (event := sink.outbox.get_nowait() if not sink.outbox.empty() else None):
                yield event
        finally:
            reader.cancel()
            finished.cancel()
            draining.cancel()
            await conversation.close()
            await sink.close()
            session_tracing.close_session(session_span, failure)
        if failure:
            await context.abort(*failure)

    @staticmethod
    def _failure_of(task: asyncio.Task | None) -> tuple[grpc.StatusCode, str] | None:
        if task is None or not task.done() or task.cancelled() or task.exception() is None:
            return None
        err = task.exception()
        status = status_of(err, WHERE)
        if status.code == grpc.StatusCode.INTERNAL:
            log.error("conversation failed", exc_info=err)
        else:
            log.warning("conversation ended with %s: %s", status.code.name, err)
        return status

    async def _read(self, request_iterator, conversation: Conversation, sink: EventSink) -> None:
        fmt = codec.Format.from_proto(conversation.config.input_audio)
        index = 1
        async for request in request_iterator:
            index += 1
            problem = await self._accept(request, fmt, conversation)
            if problem:
                await sink.emit(conversation.audio_ms, error=pb.Error(
                    code="INVALID_ARGUMENT", message=f"message {index} rejected, not processed: {problem}"))
            if not isinstance(request, Undecodable) and request.WhichOneof("message") == "end_of_input":
                return
        await conversation.end_of_input()

    @staticmethod
    async def _accept(request, fmt: codec.Format, conversation: Conversation) -> str | None:
        """Hands one message to the conversation; returns why it was rejected, if it was."""
        if isinstance(request, Undecodable):
            return f"{request.size} bytes are not a ConverseRequest ({request.error})"
        kind = request.WhichOneof("message")
        try:
            if kind == "audio":
                check_audio_chunk(fmt, request.audio.data)
                await conversation.add_audio(request.audio.data)
            elif kind == "text":
                conversation.add_text(check_text(request.text.text))
            elif kind == "playback":
                conversation.add_playback(request.playback)
            elif kind == "end_of_input":
                await conversation.end_of_input()
            elif kind == "config":
                return "`config` is only allowed as the first message"
            else:
                return "empty message"
        except InvalidRequest as err:
            return str(err)
        return None

    # ------------------------------------------------------------ offline tasks

    async def Transcribe(self, request, context):
        tenant = await self._identify(context)
        async with errors_as_status(context, WHERE, "Transcribe"):
            return await self._offline.transcribe(_decoded(request), self._charge(tenant))

    async def AnswerAboutClip(self, request, context):
        tenant = await self._identify(context)
        async with errors_as_status(context, WHERE, "AnswerAboutClip"):
            return await self._offline.answer(_decoded(request), self._charge(tenant))

    def _charge(self, tenant: Tenant):
        """Counts a clip's seconds against its tenant's offline allowance, once it is known to be valid."""
        return lambda seconds: self._limits.charge_offline(tenant, seconds)


def check_caller_instructions(tenant: Tenant, text: str) -> None:
    """The operator's policy on caller instructions: allowed or not, and how long."""
    if not text:
        return
    if tenant.caller_instructions == "refused":
        raise PermissionDenied("this service does not take caller instructions; leave config.instructions empty")
    if len(text) > tenant.caller_instructions_max_chars:
        raise InvalidConfig(f"config.instructions is {len(text)} characters; this service takes at most "
                            f"{tenant.caller_instructions_max_chars}")


def _decoded(request):
    if isinstance(request, Undecodable):
        raise InvalidRequest(f"request is not valid protobuf: {request.error}")
    return request


def add_to_server(servicer: InteractionServicer, server: grpc.aio.Server) -> None:
    """Registers the service with deserializers that report garbage instead of killing the call."""
    handlers = {
        "Converse": grpc.stream_stream_rpc_method_handler(
            servicer.Converse, request_deserializer=tolerant(pb.ConverseRequest, MAX_CONVERSE_MESSAGE_BYTES),
            response_serializer=pb.ConverseResponse.SerializeToString),
        "Transcribe": grpc.unary_unary_rpc_method_handler(
            servicer.Transcribe, request_deserializer=tolerant(pb.TranscribeRequest),
            response_serializer=pb.TranscribeResponse.SerializeToString),
        "AnswerAboutClip": grpc.unary_unary_rpc_method_handler(
            servicer.AnswerAboutClip, request_deserializer=tolerant(pb.AnswerAboutClipRequest),
            response_serializer=pb.AnswerAboutClipResponse.SerializeToString),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE_NAME, handlers),))
