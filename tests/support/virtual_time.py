"""An asyncio event loop on virtual time, for orchestration tests that must run in milliseconds.

Whenever the loop would wait for its next timer, the clock jumps to that timer
instead: `asyncio.sleep`, `wait_for` and `call_later` fire in order at their
virtual times, and a minute of conversation takes milliseconds of real time.

Real I/O still works (the tests keep real Redis on loopback), and takes no
virtual time: while a request is marked in flight (`with loop.real_io():`, done
for Redis by `virtual_time_redis`), the loop waits for real instead of jumping,
so a reply is read at the virtual instant it was asked for, however busy the
machine, and a socket timeout never fires because the clock ran ahead.

    run_virtual(main())   # main() sees loop.time() start at 0.0
"""
from __future__ import annotations

import asyncio
import contextlib
import selectors
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import redis.asyncio as aioredis

from services.gateway.session_store import SessionStore

T = TypeVar("T")

# Nothing scheduled, or real I/O in flight, and nothing arrives for this long (real time):
# the test deadlocked or the server is gone; fail instead of hanging.
IDLE_LIMIT_S = 10.0


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        super().__init__()
        self._virtual_now = 0.0
        self.io_in_flight = 0
        self._selector = _JumpingSelector(self._selector, self)

    def time(self) -> float:
        return self._virtual_now

    def advance(self, seconds: float) -> None:
        self._virtual_now += seconds

    @contextlib.contextmanager
    def real_io(self) -> Iterator[None]:
        """Marks a real request in flight: the clock stands still until it is answered."""
        self.io_in_flight += 1
        try:
            yield
        finally:
            self.io_in_flight -= 1


class _JumpingSelector:
    """Wraps the loop's selector: a wait with a timeout becomes a jump of the virtual clock."""

    def __init__(self, inner: selectors.BaseSelector, loop: VirtualTimeLoop):
        self._inner = inner
        self._loop = loop

    def select(self, timeout: float | None = None):
        if timeout is not None and timeout <= 0:
            return self._inner.select(timeout)
        waiting_for_io = self._loop.io_in_flight > 0 or timeout is None
        events = self._inner.select(IDLE_LIMIT_S if waiting_for_io else 0)
        if events:
            return events
        if waiting_for_io:
            raise RuntimeError(f"virtual-time loop: nothing happened for {IDLE_LIMIT_S:.0f} s of real time "
                               f"({self._loop.io_in_flight} real requests in flight, next timer in {timeout} s)")
        self._loop.advance(timeout)
        return []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def run_virtual(coro: Coroutine[Any, Any, T]) -> T:
    """Runs `coro` to completion on a fresh VirtualTimeLoop."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


class _RealIoConnection(aioredis.Connection):
    """A Redis connection whose connects and replies take no virtual time."""

    async def connect(self) -> None:
        with asyncio.get_running_loop().real_io():
            await super().connect()

    async def read_response(self, *args, **kwargs):
        with asyncio.get_running_loop().real_io():
            return await super().read_response(*args, **kwargs)


def virtual_time_redis(url: str) -> SessionStore:
    """The real SessionStore on real Redis, for use on a VirtualTimeLoop."""
    return SessionStore(aioredis.from_url(url, connection_class=_RealIoConnection))
