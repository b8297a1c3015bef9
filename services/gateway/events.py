"""Numbers, logs and delivers the events of one session.

Every event gets the next per-session sequence number and the caller-audio time
it refers to, goes into the Redis event log (for replay after a reconnect) and
into a bounded queue that the Converse stream drains. If the caller stops
reading, the queue fills and the session is cut off with RESOURCE_EXHAUSTED
instead of growing without bound.
"""
from __future__ import annotations

import asyncio
import logging

from google.protobuf import duration_pb2

from soundloop.errors import Overloaded
from soundloop.v1 import interaction_pb2

from .session_store import SessionStore, SessionStoreUnavailable, SessionTakenOver

log = logging.getLogger(__name__)

OUTBOX_LIMIT = 4096  # events; ~7 minutes of 100 ms reply audio
LOG_RETRY_S = 0.5  # while Redis is unreachable, the event log is retried this often


class CallerNotReading(Overloaded):
    pass


def duration(ms: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromNanoseconds(int(round(ms * 1e6)))
    return d


class EventSink:
    def __init__(self, store: SessionStore, session_id: str, last_sequence: int, send_timeout_s: float,
                 owner: str):
        self._store = store
        self._sid = session_id
        self._owner = owner  # this connection's claim: after a takeover its events are not logged
        self._sequence = last_sequence
        self._send_timeout_s = send_timeout_s
        self.outbox: asyncio.Queue[interaction_pb2.ConverseResponse] = asyncio.Queue(OUTBOX_LIMIT)
        self._pending_log: list[interaction_pb2.ConverseResponse] = []
        self._log_task: asyncio.Task | None = None
        self._log_wakeup = asyncio.Event()
        self._closed = False

    @property
    def last_sequence(self) -> int:
        return self._sequence

    def start(self) -> None:
        self._log_task = asyncio.create_task(self._log_writer(), name=f"event-log-{self._sid}")

    async def emit(self, audio_ms: float, **event) -> interaction_pb2.ConverseResponse:
        """Sends one event, e.g. `emit(1200, transcript=Transcript(...))`."""
        self._sequence += 1
        msg = interaction_pb2.ConverseResponse(sequence=self._sequence, audio_offset=duration(audio_ms), **event)
        self._pending_log.append(msg)
        self._log_wakeup.set()
        try:
            await asyncio.wait_for(self.outbox.put(msg), self._send_timeout_s)
        except TimeoutError as err:
            raise CallerNotReading(
                f"the caller has not read events for {self._send_timeout_s:.0f} s; "
                f"resume with the session's resume token") from err
        return msg

    async def _log_writer(self) -> None:
        # Batches events into one pipelined Redis round trip, off the hot path. A batch Redis did
        # not take stays first in line and goes with the next attempt: none is dropped, and their
        # sequence numbers stay theirs (the session's counter lives here, not in Redis).
        while True:
            await self._log_wakeup.wait()
            self._log_wakeup.clear()
            batch, self._pending_log = self._pending_log, []
            if batch:
                try:
                    await self._store.append_events(self._sid, self._owner, batch)
                except SessionTakenOver:
                    log.info("session %s: resumed elsewhere; this connection's events are no longer logged",
                             self._sid)
                    self._pending_log = []
                    return
                except SessionStoreUnavailable as err:
                    self._pending_log = batch + self._pending_log
                    if self._closed:
                        log.warning("session %s: %d events not logged at close (a resume will not replay them): "
                                    "%s", self._sid, len(self._pending_log), err)
                        return
                    await asyncio.sleep(LOG_RETRY_S)
                    self._log_wakeup.set()
                    continue
                except Exception:
                    log.exception("could not log %d events of session %s", len(batch), self._sid)
            if self._closed and not self._pending_log:
                return

    async def close(self) -> None:
        """Flushes the event log to Redis (one more try if it is unreachable). Idempotent."""
        self._closed = True
        self._log_wakeup.set()
        if self._log_task:
            await asyncio.gather(self._log_task, return_exceptions=True)
