"""The Ray Serve deployment, in Serve's local testing mode (no Ray cluster)."""
from __future__ import annotations

import pytest
from ray import serve

from services.llm.deployment import LlmDeployment
from soundloop.llm.v1 import llm_pb2

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def handle():
    # Bound with settings overrides, as services.app does. Local testing mode has nothing to
    # tear down (serve.delete would start a Ray cluster).
    return serve.run(LlmDeployment.bind({"profile": "light"}), name="llm-test", _local_testing_mode=True)


async def test_generate_streams_through_a_handle(handle, request_factory):
    req = request_factory(("user", "What is the capital of France?"), max_tokens=16)
    responses = [r async for r in handle.options(stream=True).generate.remote(req)]
    assert all(isinstance(r, llm_pb2.GenerateResponse) for r in responses)
    assert "".join(r.delta for r in responses).strip()
    assert responses[-1].finish_reason in (llm_pb2.FINISH_REASON_STOP, llm_pb2.FINISH_REASON_LENGTH)
    assert 0 < responses[-1].completion_tokens <= 16


async def test_bad_request_raises_through_a_handle(handle):
    with pytest.raises(ValueError, match="messages is empty"):
        async for _ in handle.options(stream=True).generate.remote(llm_pb2.GenerateRequest()):
            pass
