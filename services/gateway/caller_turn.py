"""The caller's side of a conversation: speech activity, the open turn, and its latest transcript.

A caller turn opens at the first speech onset, stays open across pauses (a
sentence said in two breaths is one turn, recognized as one), and closes when
it is answered or dismissed as a backchannel. Positions are samples of the
session's 16 kHz stream. No I/O and no clock: the gateway feeds it encoder
results and recognitions, and the decider's test timeline drives the very same
rules with scripted ones.
"""
from __future__ import annotations

import dataclasses

from soundloop.audio.codec import MODEL_RATE
from soundloop.encoder.v1 import encoder_pb2
from soundloop.v1 import interaction_pb2 as pb

from .caller_audio import CallerTurnAudio
from .session_store import OpenTurn

# A transcript that stops this close to the end of speech covers it: the gap is at
# most one VAD frame (32 ms) plus resampler delay, too short to hold a word.
COVER_TOLERANCE = 512 + 64


@dataclasses.dataclass(frozen=True)
class Transcript:
    text: str
    until: int  # stream sample the recognition covers up to
    ran: tuple[float, float] | None = None  # clock times its recognition call started and returned


class CallerTurn:
    def __init__(self, utterance: int = 0, audio: CallerTurnAudio | None = None):
        self.audio = audio or CallerTurnAudio()
        self.utterance = utterance  # number of the open (or last) turn: 1, 2, ... per session
        self.in_speech = False
        self.speech_ms = 0  # the VAD's current run of speech or of silence, at the last chunk's end
        self.silence_ms = 0
        self.last_onset = 0  # stream sample of the latest speech onset
        self._spoken_ms = 0  # ended speech of the open turn
        # Stream sample where the caller's current quiet run began (None while speaking); it
        # starts before the VAD confirms the end of speech (the encoder's pending silence).
        self.quiet_from: int | None = None
        self.transcript: Transcript | None = None

    @classmethod
    def resumed(cls, utterance: int, open_turn: OpenTurn | None) -> CallerTurn:
        """The caller side as an earlier connection left it, mid-turn perhaps."""
        caller = cls(utterance)
        if open_turn is not None:
            caller.audio.restore(open_turn.start, open_turn.pcm, open_turn.speech_end)
        return caller

    @property
    def is_open(self) -> bool:
        return self.audio.open

    @property
    def text(self) -> str:
        return self.transcript.text if self.transcript else ""

    def listen(self, chunk: encoder_pb2.AnalyzeChunkResponse) -> list[encoder_pb2.SpeechBoundary]:
        """Takes one analyzed chunk; returns the boundaries that count (an end outside a turn does not)."""
        self.audio.append(chunk.pcm16k, chunk.pcm_start_sample)
        counted = []
        for boundary in chunk.boundaries:
            if boundary.kind == encoder_pb2.BOUNDARY_KIND_SPEECH_START:
                self._speech_started(boundary.sample)
                counted.append(boundary)
            elif boundary.kind == encoder_pb2.BOUNDARY_KIND_SPEECH_END and self.is_open:
                self.audio.speech_ended(boundary.sample)
                self._spoken_ms += max(0, boundary.sample - self.last_onset) * 1000 // MODEL_RATE
                counted.append(boundary)
        self.in_speech = chunk.in_speech
        self.speech_ms, self.silence_ms = chunk.speech_ms, chunk.silence_ms
        if not chunk.in_speech:
            self.quiet_from = self.audio.speech_end if self.is_open else None
        elif chunk.pending_silence_ms:
            self.quiet_from = self.audio.end - chunk.pending_silence_ms * MODEL_RATE // 1000
        else:
            self.quiet_from = None
        return counted

    def _speech_started(self, sample: int) -> None:
        self.last_onset = sample
        if self.audio.speech_started(sample):
            self.utterance += 1
            self.transcript = None
            self._spoken_ms = 0

    def recognized(self, transcript: Transcript, utterance: int) -> bool:
        """Keeps a recognition of `utterance`; False if that turn is gone."""
        if utterance != self.utterance or not self.is_open:
            return False
        self.transcript = transcript
        return True

    @property
    def turn_speech_ms(self) -> int:
        """How much the caller has spoken in the open turn, by the VAD (0 with no open turn)."""
        if not self.is_open:
            return 0
        return self._spoken_ms + (self.speech_ms if self.in_speech else 0)

    @property
    def quiet_text(self) -> str:
        """The open turn's transcript while the caller is quiet and it holds every word said
        before the quiet began: what an answer given now would answer ("" otherwise)."""
        transcript = self.transcript
        if not (self.is_open and transcript and transcript.text and self.quiet_from is not None):
            return ""
        return transcript.text if transcript.until >= self.quiet_from - COVER_TOLERANCE else ""

    @property
    def covered(self) -> bool:
        """The transcript includes all speech of the open turn (the caller has gone quiet since)."""
        end = self.audio.speech_end
        return (not self.in_speech and end is not None and self.transcript is not None
                and self.transcript.until >= end - COVER_TOLERANCE)

    def input_ended(self) -> None:
        """No more audio will come: speech in progress has ended where the audio does."""
        self.in_speech = False
        self.audio.speech_ended(self.audio.end)

    def close(self) -> None:
        self.audio.close_turn()
        self.transcript = None
        self.quiet_from = None

    def settle(self, answered_utterance: int, action: int) -> bool:
        """Closes the open turn once the decider is done with it; True if it did.

        Done means the decider counts the turn handled (answered, superseded by a typed or a sound
        turn, a backchannel), or it let a held reply go on (RESUME_SPEAKING after a cough or a
        noise): words recognized late from that overlap are dropped, not allowed to stop a reply
        the caller let continue. Kept open, a misheard "mm-hm" ("and MH and" on tiny.en) stopped
        the reply: 2 of 4 backchannel calls on `bench.compare --quick`, light, against 0 of 4.
        """
        if self.is_open and (answered_utterance == self.utterance or action == pb.ACTION_RESUME_SPEAKING):
            self.close()
            return True
        return False
