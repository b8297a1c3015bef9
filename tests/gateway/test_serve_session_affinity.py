"""The gateway names the session when it streams from the LLM deployment, so Serve routes a session's
requests to the replica holding its KV cache (services/llm/deployment.py). Serve's routing itself is
measured on a real two-replica deployment by `python -m bench.llm_affinity`; Serve's local testing
mode does not carry multiplexed ids, so this checks the call the gateway makes on a recording handle."""
from __future__ import annotations

import pytest

from services.gateway.stage_clients import ServeStageClients
from soundloop.llm.v1 import llm_pb2
from soundloop.tts.v1 import tts_pb2

pytestmark = pytest.mark.unit


class _Response:
    def __aiter__(self):
        return self

    async def __anext__(self):
        raise StopAsyncIteration

    def cancel(self) -> None:
        pass


class RecordingHandle:
    """Records the options of each call on a DeploymentHandle's surface (options -> method -> remote)."""

    def __init__(self):
        self.calls: list[dict] = []
        self._options: dict = {}

    def options(self, **options) -> RecordingHandle:
        self._options = options
        return self

    def __getattr__(self, method: str) -> RecordingHandle:
        self._method = method
        return self

    def remote(self, request, **kwargs) -> _Response:
        self.calls.append({"method": self._method, **self._options})
        return _Response()


async def test_llm_requests_name_their_session_and_tts_requests_do_not():
    llm, tts = RecordingHandle(), RecordingHandle()
    stages = ServeStageClients(encoder=None, llm=llm, decider=None, tts=tts)
    async for _ in stages.generate(llm_pb2.GenerateRequest(session_id="acme.0f3a", turn_id="turn-1")):
        pass
    async for _ in stages.synthesize(tts_pb2.SynthesizeRequest(text="Hi.")):
        pass
    assert llm.calls == [{"method": "generate", "stream": True, "multiplexed_model_id": "acme.0f3a"}]
    assert tts.calls == [{"method": "synthesize", "stream": True}]  # stateless: any replica will do
