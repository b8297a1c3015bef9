"""RetryingStages on virtual time: per-chunk calls are sent again while a stage is away or hangs,
until the outage budget is spent; errors that retrying cannot fix pass straight through."""
from __future__ import annotations

import asyncio

import pytest

from services.gateway.stage_retry import RetryingStages
from soundloop import errors
from soundloop.decider.v1 import decider_pb2
from soundloop.encoder.v1 import encoder_pb2
from soundloop.settings import GatewaySettings
from tests.support.virtual_time import run_virtual

pytestmark = pytest.mark.unit


class FlakyEncoder:
    """Down (UNAVAILABLE at once) until `up_at`, hanging until `hangs_until`; counts attempts."""

    def __init__(self, up_at: float = 0.0, hangs_until: float = 0.0, error: Exception | None = None):
        self.up_at, self.hangs_until, self.error = up_at, hangs_until, error
        self.attempts = 0

    async def analyze_chunk(self, req):
        self.attempts += 1
        now = asyncio.get_running_loop().time()
        if self.error is not None:
            raise self.error
        if now < self.up_at:
            raise errors.Unavailable("connection refused", stage="encoder")
        if now < self.hangs_until:
            await asyncio.sleep(3600)
        return encoder_pb2.AnalyzeChunkResponse(stream_state=b"ok")

    async def decide(self, req):
        return decider_pb2.DecideResponse()


def _retrying(inner, outage_s: float = 10.0) -> RetryingStages:
    return RetryingStages(inner, GatewaySettings(stage_attempt_timeout_s=2.0, stage_outage_s=outage_s))


def test_a_stage_that_comes_back_within_the_budget_is_waited_for():
    async def main():
        inner = FlakyEncoder(up_at=4.0)
        response = await _retrying(inner).analyze_chunk(encoder_pb2.AnalyzeChunkRequest())
        return response, inner.attempts, asyncio.get_running_loop().time()

    response, attempts, at = run_virtual(main())
    assert response.stream_state == b"ok"
    assert 4.0 <= at < 5.1 and 4 <= attempts <= 10  # backoff 0.1 s doubling to 1 s


def test_a_hung_attempt_is_abandoned_and_sent_again():
    async def main():
        inner = FlakyEncoder(hangs_until=1.0)
        await _retrying(inner).analyze_chunk(encoder_pb2.AnalyzeChunkRequest())
        return inner.attempts, asyncio.get_running_loop().time()

    attempts, at = run_virtual(main())
    assert attempts == 2 and 2.0 <= at < 2.5  # one 2 s attempt timeout, then an answer


def test_a_stage_away_longer_than_the_budget_ends_unavailable():
    async def main():
        with pytest.raises(errors.Unavailable, match="still failing after 3 s") as raised:
            await _retrying(FlakyEncoder(up_at=100.0), outage_s=3.0).analyze_chunk(encoder_pb2.AnalyzeChunkRequest())
        return raised.value, asyncio.get_running_loop().time()

    error, at = run_virtual(main())
    assert error.stage == "encoder" and at <= 3.0


def test_errors_retrying_cannot_fix_are_not_retried():
    async def main():
        inner = FlakyEncoder(error=errors.InvalidRequest("audio: odd byte count", stage="encoder"))
        with pytest.raises(errors.InvalidRequest):
            await _retrying(inner).analyze_chunk(encoder_pb2.AnalyzeChunkRequest())
        return inner.attempts

    assert run_virtual(main()) == 1
