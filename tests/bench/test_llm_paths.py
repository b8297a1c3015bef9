"""bench.llm_paths: how one streamed reply is timed, and the report (the measurement itself loads the
model twice and needs a Ray cluster)."""
import asyncio
import time

import pytest

from bench.llm_paths import _timed, main, report
from soundloop.llm.v1 import llm_pb2

pytestmark = pytest.mark.unit


async def reply(delays_s: list[float], tokens: int):
    """A stream of one delta per delay, then the final response that counts the tokens."""
    for delay in delays_s:
        await asyncio.sleep(delay)
        yield llm_pb2.GenerateResponse(delta="word ")
    yield llm_pb2.GenerateResponse(finish_reason=llm_pb2.FINISH_REASON_STOP, completion_tokens=tokens)


def test_first_text_and_decode_speed_after_it():
    # Sleeps only ever run late, so the bounds are one-sided where lateness would move them.
    started = time.perf_counter()
    first, rate = asyncio.run(_timed(reply([0.2, 0.1, 0.1], tokens=3)))
    elapsed = time.perf_counter() - started
    assert 0.2 <= first < elapsed - 0.2  # the first delta, not the whole reply
    assert 2 / (elapsed - first) <= rate <= 2 / 0.2  # two tokens after the first, over what followed it


def test_a_one_token_reply_has_no_decode_speed():
    assert asyncio.run(_timed(reply([0.05], tokens=1)))[1] is None


def test_the_report_gives_both_arms_and_the_ratios():
    text = report({"serve": {"first_text": {"n": 16, "p50_ms": 487.9, "p95_ms": 654.5}, "tokens_per_s_p50": 11.6},
                   "process": {"first_text": {"n": 16, "p50_ms": 495.0, "p95_ms": 658.6}, "tokens_per_s_p50": 11.8}},
                  "default")
    assert "| serve | 16 | 487.9 | 654.5 | 11.6 |" in text and "| process | 16 | 495.0 | 658.6 | 11.8 |" in text
    assert "Serve / process: first text p50 0.99, decode 0.98" in text


def test_no_rounds_is_refused():
    with pytest.raises(SystemExit):
        main(["--rounds", "0"])
