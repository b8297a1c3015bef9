"""Parks a session's progress in Redis after every chunk, so any gateway replica can pick it up.

What advances per chunk (stage states, the audio clock, counters, the open caller
turn) goes in one atomic, ownership-checked write (SessionStore.save_progress).
The open turn's audio is appended chunk by chunk rather than rewritten, except
when the turn was just opened, restored or trimmed.
"""
from __future__ import annotations

from soundloop.decider.v1 import decider_pb2

from .caller_turn import CallerTurn
from .session_store import Progress, SessionSnapshot, SessionStore


class ProgressSaver:
    def __init__(self, store: SessionStore, snapshot: SessionSnapshot):
        self._store = store
        self._sid, self._token, self._owner = snapshot.session_id, snapshot.resume_token, snapshot.owner
        self._turn_saved = snapshot.open_turn is not None  # Redis holds the open turn's audio so far

    async def save(self, encoder_state: bytes, decider_state: decider_pb2.DeciderState, audio_ms: float,
                   turns: int, caller: CallerTurn, chunk_pcm: bytes = b"") -> None:
        """`chunk_pcm`: the 16 kHz audio the last chunk added to the turn (empty: save the turn whole).
        Raises SessionTakenOver if another connection owns the session now."""
        audio = caller.audio
        progress = Progress(encoder_state, decider_state, audio_ms, turns, caller.utterance,
                            audio.turn_start, audio.speech_end)
        if audio.open and (not self._turn_saved or audio.trimmed or not chunk_pcm):
            progress.turn_audio_op, progress.turn_pcm = "set", audio.turn_pcm()
        elif audio.open:
            progress.turn_audio_op, progress.turn_pcm = "append", chunk_pcm
        elif self._turn_saved:
            progress.turn_audio_op = "clear"
        await self._store.save_progress(self._sid, self._token, self._owner, progress)
        self._turn_saved, audio.trimmed = audio.open, False
