"""How the gateway reaches the four stages: over gRPC or through Ray Serve handles.

Both transports speak the stage protos, so the loop does not care which one it
has. Streaming calls are async generators; closing one (or cancelling the task
that iterates it) cancels the remote work, which is how barge-in stops the LLM
and TTS mid-reply. Both raise the same kernel errors (soundloop.errors) with
`stage` set: a status code or a Ray error becomes InvalidRequest, Overloaded,
Unavailable or Internal.
"""
from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

import grpc

from soundloop import metrics, telemetry
from soundloop.decider.v1 import decider_pb2, decider_pb2_grpc
from soundloop.encoder.v1 import encoder_pb2, encoder_pb2_grpc
from soundloop.errors import Internal, Overloaded, SoundloopError, Unavailable, from_status
from soundloop.grpc_server import MAX_MESSAGE_BYTES
from soundloop.llm.v1 import llm_pb2, llm_pb2_grpc
from soundloop.settings import StageAddresses
from soundloop.tts.v1 import tts_pb2, tts_pb2_grpc


class StageClients(Protocol):
    async def analyze_chunk(self, req: encoder_pb2.AnalyzeChunkRequest) -> encoder_pb2.AnalyzeChunkResponse: ...
    async def transcribe_utterance(
        self, req: encoder_pb2.TranscribeUtteranceRequest) -> encoder_pb2.TranscribeUtteranceResponse: ...
    async def transcribe_clip(self, req: encoder_pb2.TranscribeClipRequest) -> encoder_pb2.TranscribeClipResponse: ...
    async def decide(self, req: decider_pb2.DecideRequest) -> decider_pb2.DecideResponse: ...
    def generate(self, req: llm_pb2.GenerateRequest) -> AsyncIterator[llm_pb2.GenerateResponse]: ...
    def synthesize(self, req: tts_pb2.SynthesizeRequest) -> AsyncIterator[tts_pb2.SynthesizeResponse]: ...
    async def close(self) -> None: ...


_CHANNEL_OPTIONS = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)]


@contextlib.asynccontextmanager
async def _measured(stage: str, method: str):
    """Times one stage call (soundloop.stage.call.duration) and counts its failure by status code."""
    started = time.perf_counter()
    try:
        yield
    except SoundloopError as err:
        metrics.ERRORS.add(1, {"stage": stage, "code": err.code.name})
        raise
    finally:
        metrics.STAGE_CALL.record(time.perf_counter() - started, {"stage": stage, "method": method})


class GrpcStageClients:
    """Stages running as standalone gRPC servers (docker-compose, tests)."""

    def __init__(self, addresses: StageAddresses):
        self._channels = {name: grpc.aio.insecure_channel(getattr(addresses, name), options=_CHANNEL_OPTIONS)
                          for name in ("encoder", "llm", "decider", "tts")}
        self._stubs = {"encoder": encoder_pb2_grpc.EncoderStub(self._channels["encoder"]),
                       "llm": llm_pb2_grpc.LlmStub(self._channels["llm"]),
                       "decider": decider_pb2_grpc.DeciderStub(self._channels["decider"]),
                       "tts": tts_pb2_grpc.TtsStub(self._channels["tts"])}

    async def _unary(self, stage: str, method: str, req, traced: bool = True):
        async with _measured(stage, method):
            try:
                return await getattr(self._stubs[stage], method)(
                    req, metadata=telemetry.outgoing_metadata() if traced else None)
            except grpc.aio.AioRpcError as err:
                raise from_status(err.code(), err.details(), stage) from err

    async def _stream(self, stage: str, method: str, req) -> AsyncIterator[Any]:
        async with _measured(stage, method):
            call = getattr(self._stubs[stage], method)(req, metadata=telemetry.outgoing_metadata())
            try:
                async for item in call:
                    yield item
            except grpc.aio.AioRpcError as err:
                raise from_status(err.code(), err.details(), stage) from err
            finally:
                call.cancel()  # no-op when finished; stops the stage's work when we stop early

    async def analyze_chunk(self, req):
        return await self._unary("encoder", "AnalyzeChunk", req, traced=False)  # no span per chunk

    async def transcribe_utterance(self, req):
        return await self._unary("encoder", "TranscribeUtterance", req)

    async def transcribe_clip(self, req):
        return await self._unary("encoder", "TranscribeClip", req)

    async def decide(self, req):
        return await self._unary("decider", "Decide", req)

    def generate(self, req):
        return self._stream("llm", "Generate", req)

    def synthesize(self, req):
        return self._stream("tts", "Synthesize", req)

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()


class ServeStageClients:
    """Stages running as Ray Serve deployments, reached through DeploymentHandles.

    The gateway calls them per chunk (~100 ms) or per utterance, never per 20 ms
    frame: a handle call costs ~2 ms CPU here.
    """

    def __init__(self, encoder, llm, decider, tts):
        self._encoder, self._llm, self._decider, self._tts = encoder, llm, decider, tts

    @staticmethod
    async def _unary(stage: str, handle, method: str, req, traced: bool = True):
        async with _measured(stage, _rpc_name(method)):
            response = None
            try:
                call, trace = getattr(handle, method), telemetry.carrier() if traced else None
                response = call.remote(req, trace=trace) if trace else call.remote(req)
                return await response
            except asyncio.CancelledError:
                # Serve leaves the replica working when the awaiting task is cancelled (a partial
                # recognition the gateway replaced); gRPC cancels the call. Do as gRPC does.
                if response is not None:
                    response.cancel()
                raise
            except Exception as err:
                raise error_of_replica(err, stage) from err

    @staticmethod
    async def _stream(stage: str, handle, method: str, req, session: str = "") -> AsyncIterator[Any]:
        """`session`: route to the replica holding this session (see services/llm/deployment.py)."""
        async with _measured(stage, _rpc_name(method)):
            trace = telemetry.carrier()
            options = {"stream": True, **({"multiplexed_model_id": session} if session else {})}
            call = getattr(handle.options(**options), method)
            response = call.remote(req, trace=trace) if trace else call.remote(req)
            try:
                async for item in response:
                    yield item
            except Exception as err:
                raise error_of_replica(err, stage) from err
            finally:
                response.cancel()

    async def analyze_chunk(self, req):
        return await self._unary("encoder", self._encoder, "analyze_chunk", req, traced=False)

    async def transcribe_utterance(self, req):
        return await self._unary("encoder", self._encoder, "transcribe_utterance", req)

    async def transcribe_clip(self, req):
        return await self._unary("encoder", self._encoder, "transcribe_clip", req)

    async def decide(self, req):
        return await self._unary("decider", self._decider, "decide", req)

    def generate(self, req):
        return self._stream("llm", self._llm, "generate", req, session=req.session_id)

    def synthesize(self, req):
        return self._stream("tts", self._tts, "synthesize", req)

    async def close(self) -> None:
        return None


def _rpc_name(method: str) -> str:
    """A handle method's gRPC name (analyze_chunk -> AnalyzeChunk): metrics label calls the same in both modes."""
    return "".join(word.title() for word in method.split("_"))


def error_of_replica(err: Exception, stage: str) -> SoundloopError:
    """The kernel error, `stage` set, for what a Serve handle call raised.

    An exception raised in a replica arrives as a RayTaskError that is also an instance of
    the original class and carries it as `.cause` (local testing mode raises the original).
    A kernel error comes back as a copy of itself; Serve refusing work (back pressure) is
    Overloaded; a replica or deployment that went away is Unavailable; anything else Internal.
    """
    from ray import exceptions as ray_errors
    from ray.serve import exceptions as serve_errors

    cause = err.cause if isinstance(err, ray_errors.RayTaskError) else err
    if isinstance(cause, SoundloopError):
        error = copy.copy(cause)  # the same class and message: Ray pickles it the same way
        error.stage = stage
        return error
    kind = type(cause).__name__  # Ray's texts name actors, nodes and tracebacks: for the log only
    if isinstance(cause, serve_errors.BackPressureError):
        return Overloaded(f"the {stage} deployment's queue is full ({kind}); retry later", stage=stage)
    replica_gone = (ray_errors.RayActorError, ray_errors.WorkerCrashedError, ray_errors.NodeDiedError,
                    ray_errors.TaskCancelledError, serve_errors.DeploymentUnavailableError,
                    serve_errors.ReplicaUnavailableError)
    if isinstance(cause, replica_gone):
        return Unavailable(f"no {stage} replica could serve the call ({kind})", stage=stage)
    return Internal(f"{kind}: {cause}", stage=stage)
