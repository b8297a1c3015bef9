"""A stage call the gateway gives up on (a partial recognition replaced by a newer one) stops the
replica's work under Serve too, as a cancelled gRPC call does. Ray 2.60's DeploymentResponse only
stops waiting when the awaiting task is cancelled (its `__await__`), and Serve's local testing mode
cancels the local replica anyway, so this checks the call the gateway makes on a handle double."""
from __future__ import annotations

import asyncio

import pytest

from services.gateway.stage_clients import ServeStageClients
from soundloop.encoder.v1 import encoder_pb2

pytestmark = pytest.mark.unit


class PendingResponse:
    """A DeploymentResponse whose replica never answers; records whether it was cancelled."""

    def __init__(self):
        self.cancelled = False

    def __await__(self):
        return asyncio.sleep(3600).__await__()

    def cancel(self) -> None:
        self.cancelled = True


class Handle:
    def __init__(self):
        self.response = PendingResponse()

    def __getattr__(self, method: str):
        return self

    def remote(self, request, **kwargs) -> PendingResponse:
        return self.response


async def test_cancelling_a_unary_stage_call_cancels_the_serve_request():
    encoder = Handle()
    stages = ServeStageClients(encoder=encoder, llm=None, decider=None, tts=None)
    call = asyncio.create_task(stages.transcribe_utterance(encoder_pb2.TranscribeUtteranceRequest(pcm16k=b"\0\0")))
    await asyncio.sleep(0.01)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert encoder.response.cancelled
