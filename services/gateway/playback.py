"""Paces reply audio to the caller at real time, with a small lead.

Sending a whole reply at once would make "stop talking" impossible: the caller
would already hold seconds of audio. So audio leaves the gateway only
`lead_ms` ahead of where the caller's playback is estimated to be; pausing or
flushing then takes effect within one piece. Audio queued but not yet sent is
kept while paused (a backchannel resumes it) and dropped on flush (barge-in).
"""
from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable

from .clock import Clock, loop_clock

SendAudio = Callable[[str, bytes, int], Awaitable[None]]  # turn id, data, start sample


class ReplyPlayer:
    def __init__(self, send: SendAudio, bytes_per_sample: int, sample_rate_hz: int, lead_ms: int,
                 clock: Clock = loop_clock):
        self._send = send
        self._bytes_per_sample = bytes_per_sample
        self._rate = sample_rate_hz
        self._lead_s = lead_ms / 1000
        self._clock = clock  # waits are asyncio sleeps, on the same (loop) clock
        self._queue: collections.deque[tuple[str, bytes]] = collections.deque()
        self._wakeup = asyncio.Event()
        self._paused = False
        self._playout_end = 0.0  # when the caller will have played everything sent
        self._sent: dict[str, int] = {}  # samples sent per turn
        self.first_sent: dict[str, float] = {}  # clock time of each turn's first and last piece
        self.last_sent: dict[str, float] = {}
        self._finishing: dict[str, asyncio.Future] = {}
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="reply-player")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    @property
    def paused(self) -> bool:
        return self._paused

    def samples_sent(self, turn_id: str) -> int:
        return self._sent.get(turn_id, 0)

    def enqueue(self, turn_id: str, data: bytes) -> None:
        self._queue.append((turn_id, data))
        self._wakeup.set()

    def drained(self, turn_id: str) -> Awaitable[None]:
        """Resolves once every piece queued for `turn_id` so far has been sent."""
        future = asyncio.get_running_loop().create_future()
        self._finishing[turn_id] = future
        self._check_drained()
        return future

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self._wakeup.set()

    def flush(self, turn_id: str) -> int:
        """Drops unsent audio of `turn_id`; returns the samples that were sent."""
        self._queue = collections.deque(item for item in self._queue if item[0] != turn_id)
        self._paused = False
        self._check_drained()
        return self.samples_sent(turn_id)

    def _check_drained(self) -> None:
        queued = {turn for turn, _ in self._queue}
        for turn_id, future in list(self._finishing.items()):
            if turn_id not in queued and not future.done():
                future.set_result(None)
                del self._finishing[turn_id]

    async def _run(self) -> None:
        while True:
            if not self._queue or self._paused:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            now = self._clock()
            ahead = self._playout_end - now
            if ahead > self._lead_s + 0.001:  # 1 ms slack: no busy-looping on float dust
                await asyncio.sleep(ahead - self._lead_s)
                continue
            turn_id, data = self._queue.popleft()
            samples = len(data) // self._bytes_per_sample
            start = self._sent.get(turn_id, 0)
            self._sent[turn_id] = start + samples
            self._playout_end = max(self._playout_end, now) + samples / self._rate
            await self._send(turn_id, data, start)
            self.first_sent.setdefault(turn_id, now)
            self.last_sent[turn_id] = now
            self._check_drained()
