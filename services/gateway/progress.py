"""Keeps a session's Redis keys in step with the conversation, so any gateway replica can pick it up.

What advances per chunk (stage states, the audio clock, counters, the open caller
turn) goes in one atomic, ownership-checked write (SessionStore.save_progress); the
open turn's audio is appended at the offset it must land on, and history entries at
the length the history must have.

A write goes out at once when the conversation reaches a milestone (a caller turn opens,
its speech ends, it closes; a reply starts or ends; the decider acts), else once per
`progress_every_ms` of caller audio (session settings, 500 ms by default; 0: every chunk):
per chunk, it was the gateway's largest piece of Python work per caller
(docs/benchmarks/2026-12-04-orchestration/). The cost is what a gateway that dies (SIGKILL,
node loss) has not yet written: up to that much more of the open turn's audio and of the
stage states' progress; a gateway that stops or loses the caller writes everything first.

The conversation itself lives in this process's memory; Redis is its copy for a
resume. So a Redis that stops answering does not stop the call: writes that fail
are owed, and the first write after Redis answers again rewrites what it may lack
(config, resume token, owner, history, the whole open turn). Only if Redis stays
unreachable for the store's `outage_s` does the call end, UNAVAILABLE, resumable
once Redis is back. The same rewrite repairs a Redis that restarted empty.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from soundloop.decider.v1 import decider_pb2

from .caller_turn import CallerTurn
from .session_store import (
    ChatTurn,
    Progress,
    SessionOutOfStep,
    SessionSnapshot,
    SessionStore,
    SessionStoreUnavailable,
    SessionTakenOver,
)

log = logging.getLogger(__name__)

RETRY_S = 0.5  # while Redis is unreachable, a save is tried at most this often (in the background)


class ProgressSaver:
    def __init__(self, store: SessionStore, snapshot: SessionSnapshot, history: Callable[[], Sequence[ChatTurn]],
                 clock: Callable[[], float] = time.monotonic):
        self._store = store
        self._snapshot = snapshot
        self._sid, self._token, self._owner = snapshot.session_id, snapshot.resume_token, snapshot.owner
        self._history = history  # the conversation's history as it is now (for a rewrite)
        self._clock = clock
        self._turn_saved = snapshot.open_turn is not None  # Redis holds the open turn's audio so far
        self._out_of_step = False  # Redis may lack something: rewrite before the next save
        self._unreachable_since: float | None = None
        self._last_try = 0.0  # when the last try at an unreachable Redis ended
        self._retry: asyncio.Task | None = None
        self._unsaved_pcm = bytearray()  # the open turn's audio added since the last write
        self._saved_ms: float | None = None  # the audio clock at the last write
        self._milestone: tuple | None = None  # the conversation's milestone at the last write

    async def save(self, encoder_state: bytes, decider_state: decider_pb2.DeciderState, audio_ms: float,
                   turns: int, caller: CallerTurn, chunk_pcm: bytes = b"", sequence: int = 0,
                   open_reply: str = "", force: bool = False) -> None:
        """Writes the progress at a milestone, once the store's `progress_every_ms` went by, or if `force`.
        `chunk_pcm`: the 16 kHz audio the last chunk added to the turn (empty: write now, with the turn
        whole unless chunks since the last write are owed, which are appended);
        `sequence`: the last event number given out; `open_reply`: the reply turn being spoken.
        Raises SessionTakenOver if another connection owns the session now, SessionStoreUnavailable
        once Redis has been unreachable for longer than the store's `outage_s`."""
        milestone = (turns, caller.utterance, caller.audio.turn_start, caller.audio.speech_end, open_reply,
                     decider_state.answered_utterance, decider_state.last_action)
        due = (force or not chunk_pcm or milestone != self._milestone or self._saved_ms is None
               or audio_ms - self._saved_ms >= self._store.progress_every_ms)
        if caller.audio.open:
            self._unsaved_pcm += chunk_pcm
        if not due:
            return
        chunk_pcm, self._unsaved_pcm = bytes(self._unsaved_pcm), bytearray()
        self._milestone, self._saved_ms = milestone, audio_ms
        args = (encoder_state, decider_state, audio_ms, turns, caller, chunk_pcm, sequence, open_reply)
        if self._unreachable_since is None:
            try:
                await self._write(*args)
            except SessionStoreUnavailable:
                self._owe_a_write()
            return
        # Redis is away. A try may wait a whole command timeout, so it runs beside the conversation
        # (one at a time, at most every RETRY_S); this chunk's progress is owed meanwhile.
        retry = self._retry
        if retry is not None and retry.done():
            self._retry = None
            if isinstance(retry.exception(), SessionTakenOver):
                raise retry.exception()
        if self._unreachable_since is not None:
            if self._retry is None and self._clock() - self._last_try >= RETRY_S:
                self._retry = asyncio.create_task(self._try_again(*args), name=f"redis-retry-{self._sid}")
            self._owe_a_write()

    async def _try_again(self, *args) -> None:
        try:
            await self._write(*args)
        except SessionStoreUnavailable:
            return
        finally:
            self._last_try = self._clock()
        log.info("session %s: Redis answers again after %.1f s; session rewritten", self._sid,
                 self._clock() - self._unreachable_since)
        self._unreachable_since = None

    async def _write(self, *args) -> None:
        """One save, after rewriting what Redis may lack if a write was owed or it is out of step."""
        if self._out_of_step:
            await self._store.restore(self._snapshot, self._history())
            self._out_of_step, self._turn_saved = False, False
        try:
            await self._save(*args)
        except SessionOutOfStep as err:
            log.warning("session %s: Redis out of step (%s): rewriting it", self._sid, err)
            await self._store.restore(self._snapshot, self._history())
            self._turn_saved = False
            await self._save(*args)

    async def append_history(self, before: int, turns: Sequence[ChatTurn]) -> None:
        """Adds `turns` to the history Redis holds, which had `before` entries. A failed or out-of-step
        append is made good by the next save's rewrite."""
        if self._unreachable_since is not None:  # owed: not worth a command timeout now
            self._out_of_step = True
            return
        try:
            await self._store.append_history(self._sid, self._owner, turns, before)
        except SessionOutOfStep:
            self._out_of_step = True
        except SessionStoreUnavailable:
            self._owe_a_write()

    def _owe_a_write(self) -> None:
        """A write failed: rewrite everything once Redis answers; end the call if it has not for too long."""
        self._out_of_step = True
        now = self._clock()
        if self._unreachable_since is None:
            self._unreachable_since = now
            log.warning("session %s: Redis unreachable; the call goes on, its progress kept in memory", self._sid)
        elif now - self._unreachable_since > self._store.outage_s:
            raise SessionStoreUnavailable(f"for {now - self._unreachable_since:.0f} s")

    async def _save(self, encoder_state: bytes, decider_state: decider_pb2.DeciderState, audio_ms: float,
                    turns: int, caller: CallerTurn, chunk_pcm: bytes, sequence: int, open_reply: str) -> None:
        audio = caller.audio
        progress = Progress(encoder_state, decider_state, audio_ms, turns, caller.utterance,
                            audio.turn_start, audio.speech_end, sequence=sequence, open_reply=open_reply)
        if audio.open and (not self._turn_saved or audio.trimmed or not chunk_pcm):
            progress.turn_audio_op, progress.turn_pcm = "set", audio.turn_pcm()
        elif audio.open:
            progress.turn_audio_op, progress.turn_pcm = "append", chunk_pcm
            progress.append_at = audio.turn_bytes - len(chunk_pcm)
        elif self._turn_saved:
            progress.turn_audio_op = "clear"
        await self._store.save_progress(self._sid, self._token, self._owner, progress)
        self._turn_saved, audio.trimmed = audio.open, False
