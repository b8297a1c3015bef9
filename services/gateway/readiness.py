"""The gateway's health follows Redis: without it no session can start, resume or be saved, so
the gateway reports NOT_SERVING within about two seconds of losing it (load balancers and
Kubernetes readiness then send new calls elsewhere) and SERVING once it answers again.
Calls already running are not cut: how they ride out the outage is the session store's
business."""
from __future__ import annotations

import asyncio
import logging

from soundloop.grpc_server import ServingStatus

from .session_store import SessionStore

log = logging.getLogger(__name__)

CHECK_EVERY_S = 1.0
PING_TIMEOUT_S = 1.0  # a Redis that stopped answering (not just refusing) must not hang the check


class RedisWatch:
    def __init__(self, store: SessionStore, status: ServingStatus):
        self._store = store
        self._status = status
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="redis-watch")

    def raise_if_stopped(self) -> None:
        """Liveness: the watch is what keeps health truthful; if it died, this process's health is stale."""
        if self._task is None or self._task.done():
            error = self._task.exception() if self._task is not None and not self._task.cancelled() else None
            raise RuntimeError(f"the gateway's Redis watch is not running ({error!r})")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._store.ping(), PING_TIMEOUT_S)
                reachable, why = True, ""
            except Exception as exc:  # refused, reset, timed out: all mean no sessions
                reachable, why = False, f"{type(exc).__name__}: {exc}"
            if reachable != self._status.serving:
                if reachable:
                    log.info("Redis answers again: SERVING")
                else:
                    log.warning("Redis unreachable (%s): NOT_SERVING until it answers", why)
                await self._status.set(reachable)
            await asyncio.sleep(CHECK_EVERY_S)
