"""The gateway's clock: seconds on the event loop's monotonic clock.

Everything in the loop that measures or paces (latency marks, partial-transcript
intervals, reply pacing) reads this one clock, and waits with asyncio's sleeps,
which run on the same clock. On the default loop it is time.monotonic(); the
orchestration tests run the loop on virtual time (tests/support/virtual_time.py),
so a whole conversation replays deterministically in milliseconds.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable

Clock = Callable[[], float]


def loop_clock() -> float:
    return asyncio.get_running_loop().time()
