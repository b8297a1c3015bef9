"""A reply generated before the decision to answer, while the caller is still in the pause.

Once the caller has gone quiet and the transcript covers everything said, the
LLM is asked for the reply at once, without waiting for the decider to call the
turn finished. Its text is held here, never shown nor spoken, until the reply
turn that answers exactly these messages adopts it (the decider said RESPOND),
or it is dropped because the caller went on talking, the transcript changed or
something else was answered. Adopted, the reply's first words are ready (or
nearly) when the decision comes; dropped, it cost LLM time that the next
request waits for only until the stage sees the cancel (about one token).

Earlier still, while the caller speaks, each partial transcript is prefilled: a
one-token generation whose only use is to leave the prompt up to the caller's
words so far in the LLM stage's prefix cache (it keeps each session's KV), so
the reply's prefill at the end evaluates only the last few words. Only while they speak: a partial
that comes back once they have gone quiet is not prefilled, and a prefill still running when the
reply's generation starts is cancelled, since the LLM stage finishes one request's prefill before it
starts the next (16 of 28 default-profile replies started behind one; most of its work is the reply's
own prefix, so this saves its last tokens, not its whole time: docs/benchmarks/2026-12-04-prefill/).
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Sequence

from soundloop.llm.v1 import llm_pb2

from .stage_clients import StageClients

log = logging.getLogger(__name__)

_END = object()


@dataclasses.dataclass
class SpeculationCounts:
    started: int = 0
    adopted: int = 0
    dropped: int = 0
    prefills: int = 0


class SpeculativeGeneration:
    """One LLM generation pulled in the background; its chunks wait until `stream()` takes them."""

    def __init__(self, stages: StageClients, request: llm_pb2.GenerateRequest):
        self.request = request
        self._chunks: asyncio.Queue = asyncio.Queue()
        self._task = asyncio.create_task(self._pull(stages), name=f"speculative-llm-{request.session_id}")

    def answers(self, messages: Sequence[llm_pb2.ChatMessage]) -> bool:
        return list(self.request.messages) == list(messages)

    async def _pull(self, stages: StageClients) -> None:
        try:
            async for chunk in stages.generate(self.request):
                self._chunks.put_nowait(chunk)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # surfaces in the adopting turn, as a failed generation would
            self._chunks.put_nowait(err)
        self._chunks.put_nowait(_END)

    async def stream(self) -> AsyncIterator[llm_pb2.GenerateResponse]:
        """What was generated so far, then the rest as it comes; leaving early stops the generation."""
        try:
            while (item := await self._chunks.get()) is not _END:
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            self._task.cancel()

    async def cancel(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


class ReplySpeculator:
    """At most one speculative generation per session, for the caller text it was started on."""

    def __init__(self, stages: StageClients, session_id: str, enabled: bool = True):
        self._stages = stages
        self._sid = session_id
        self.enabled = enabled
        self._current: SpeculativeGeneration | None = None
        self._prefill: asyncio.Task | None = None
        self.counts = SpeculationCounts()

    def prefill(self, messages: Sequence[llm_pb2.ChatMessage]) -> None:
        """Warms the LLM's cache with `messages` (a partial turn), unless a prefill is still running."""
        if not self.enabled or (self._prefill is not None and not self._prefill.done()):
            return
        request = llm_pb2.GenerateRequest(session_id=self._sid, turn_id="prefill", messages=messages, max_tokens=1)
        self._prefill = asyncio.create_task(self._run_prefill(request), name=f"prefill-{self._sid}")
        self.counts.prefills += 1

    async def _run_prefill(self, request: llm_pb2.GenerateRequest) -> None:
        try:
            async for _ in self._stages.generate(request):
                pass
        except asyncio.CancelledError:
            raise
        except Exception as err:  # only a cache warm-up: the reply itself will report real failures
            log.debug("prefill of session %s failed: %s", self._sid, err)

    async def want(self, messages: Sequence[llm_pb2.ChatMessage] | None) -> None:
        """Keeps, starts or drops the speculation so that it answers `messages` (None: nothing)."""
        current = self._current
        if current is not None and messages is not None and current.answers(messages):
            return
        if current is not None:
            await self.drop()
        if messages is not None and self.enabled:
            await self._stop_prefill()  # the generation prefills all of it anyway: it must not wait behind it
            self._current = SpeculativeGeneration(self._stages, llm_pb2.GenerateRequest(
                session_id=self._sid, turn_id="speculative", messages=messages))
            self.counts.started += 1

    def adopt(self, messages: Sequence[llm_pb2.ChatMessage]) -> SpeculativeGeneration | None:
        """The speculation, if it answers exactly `messages`; the caller then owns it."""
        current = self._current
        if current is None or not current.answers(messages):
            return None
        self._current = None
        self.counts.adopted += 1
        return current

    async def close(self) -> None:
        await self.drop()
        await self._stop_prefill()

    async def _stop_prefill(self) -> None:
        if self._prefill is not None and not self._prefill.done():
            self._prefill.cancel()
            await asyncio.gather(self._prefill, return_exceptions=True)

    async def drop(self) -> None:
        current, self._current = self._current, None
        if current is not None:
            self.counts.dropped += 1
            await current.cancel()
