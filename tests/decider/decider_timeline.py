"""Scripted timelines for the turn policy, replayed on the session's audio clock.

    steps = Timeline().speech(0, 1200, "I would like to book").speech(2400, 3400, "a table for two.").replay(eot)

A Timeline plays the encoder and the recognizer from a script and lets the
gateway's own code do the rest, so the policy is fed exactly what the gateway
sends: per 100 ms chunk, an encoder result (VAD state, boundaries, sound tags)
goes to the gateway's CallerTurn, scripted recognitions of the open turn arrive
`asr_delay_ms` after the audio they cover, and the gateway's `observation()`
builds what the decider sees. `replay` feeds that to the real turn policy and
plays the gateway's part: the caller turn is settled as the gateway settles
it, and RESPOND starts a reply of `reply_ms` of audio, PAUSE holds it,
RESUME / IGNORE_BACKCHANNEL release it, STOP cancels it; a CHANGE_MODE with a
confirmation speaks it as a reply.

As in the gateway, a caller turn opens at the first onset and stays open across
pauses until the decider counts it handled: its transcript is the words of all
its speech so far, and every speech in it has the turn's utterance number.
"""
from __future__ import annotations

import dataclasses

from services.decider import turn_policy
from services.gateway.caller_turn import CallerTurn, Transcript
from services.gateway.decision_hold import DecisionHold
from services.gateway.observation import observation
from soundloop.audio.codec import MODEL_RATE
from soundloop.decider.v1 import decider_pb2
from soundloop.encoder.v1 import encoder_pb2
from soundloop.v1 import interaction_pb2 as api

SAMPLES_PER_MS = MODEL_RATE // 1000


@dataclasses.dataclass(frozen=True)
class Speech:
    start: int
    end: int
    text: str
    asr_delay_ms: int


@dataclasses.dataclass(frozen=True)
class Sound:
    start: int
    end: int
    label: str
    score: float


@dataclasses.dataclass(frozen=True)
class Step:
    now_ms: int
    action: int
    reason: str
    response: decider_pb2.DecideResponse
    observation: decider_pb2.Observation

    @property
    def name(self) -> str:
        return api.Action.Name(self.action).removeprefix("ACTION_")


class Timeline:
    def __init__(self, chunk_ms: int = 100, asr_delay_ms: int = 200):
        self.chunk_ms = chunk_ms
        self.asr_delay_ms = asr_delay_ms
        self.speeches: list[Speech] = []
        self.sounds: list[Sound] = []
        self.typed: list[tuple[int, str]] = []

    def speech(self, start: int, end: int, text: str, asr_delay_ms: int | None = None) -> Timeline:
        """The caller speaks from `start` to `end` ms; the recognizer hears `text`, `asr_delay_ms` late."""
        delay = self.asr_delay_ms if asr_delay_ms is None else asr_delay_ms
        self.speeches.append(Speech(start, end, text, delay))
        self.speeches.sort(key=lambda s: s.start)
        return self

    def silence(self, start: int, end: int) -> Timeline:
        """Documents a gap; the caller is silent wherever no speech is scripted."""
        assert not any(s.start < end and start < s.end for s in self.speeches), "silence overlaps speech"
        return self

    def sound(self, start: int, end: int, label: str, score: float = 0.8) -> Timeline:
        self.sounds.append(Sound(start, end, label, score))
        return self

    def text(self, at: int, text: str) -> Timeline:
        self.typed.append((at, text))
        return self

    def encoder_result(self, now: int) -> encoder_pb2.AnalyzeChunkResponse:
        """What the encoder reports for the chunk ending at `now` (no audio: only the turn logic needs it)."""
        begin = now - self.chunk_ms
        chunk = encoder_pb2.AnalyzeChunkResponse(pcm_start_sample=begin * SAMPLES_PER_MS)
        for s in self.speeches:
            if begin <= s.start < now:
                chunk.boundaries.add(kind=encoder_pb2.BOUNDARY_KIND_SPEECH_START, sample=s.start * SAMPLES_PER_MS)
            if begin < s.end <= now:
                chunk.boundaries.add(kind=encoder_pb2.BOUNDARY_KIND_SPEECH_END, sample=s.end * SAMPLES_PER_MS)
        started = [s for s in self.speeches if s.start < now]
        if started and started[-1].start < now < started[-1].end:
            chunk.in_speech, chunk.speech_ms = True, now - started[-1].start
            # A voice falling from 8 to 2 semitones above 100 Hz over each speech.
            fall = 6 * (now - started[-1].start) / max(1, started[-1].end - started[-1].start)
            chunk.prosody.CopyFrom(encoder_pb2.ChunkProsody(energy_db=-24, voiced=0.9, pitch_semitones=8 - fall,
                                                            vad_probability=0.97))
        else:
            chunk.silence_ms = now - started[-1].end if started else now
            chunk.prosody.CopyFrom(encoder_pb2.ChunkProsody(energy_db=-75, vad_probability=0.02))
        for snd in self.sounds:
            if snd.start < now and begin < snd.end:
                chunk.sound_tags.add(label=snd.label, score=snd.score,
                                     start_sample=max(snd.start, begin) * SAMPLES_PER_MS,
                                     end_sample=min(snd.end, now) * SAMPLES_PER_MS)
        return chunk

    def recognition(self, turn: list[Speech], now: int) -> Transcript | None:
        """The recognizer's newest result for the open turn at `now`: its speech heard so far."""
        words, until = [], None
        for s in turn:
            heard_until = now - s.asr_delay_ms
            if heard_until <= s.start:
                continue
            spoken = s.text.split()
            words += spoken[:len(spoken) * (min(heard_until, s.end) - s.start) // (s.end - s.start)]
            until = heard_until
        return None if until is None else Transcript(" ".join(words), until * SAMPLES_PER_MS)

    def replay(self, estimator, policy: decider_pb2.DeciderPolicy | None = None, until: int | None = None,
               reply_ms: int = 3000, turn_model=None, default_model: int = api.TURN_MODEL_RULES) -> list[Step]:
        """Runs the policy over the timeline, playing the gateway's part (with the learned
        `turn_model` where the policy or `default_model` asks for it)."""
        policy = policy or decider_pb2.DeciderPolicy()
        ends = [s.end for s in self.speeches] + [s.end for s in self.sounds] + [at for at, _ in self.typed]
        until = until or (max(ends, default=0) + 3000)
        caller, state, reply = CallerTurn(), decider_pb2.DeciderState(), ReplySide(reply_ms)
        turn_begins = 0  # index in self.speeches of the open turn's first speech
        steps = []
        hold = DecisionHold()  # the gateway's: every decision said to hold must really hold
        for now in range(self.chunk_ms, until + 1, self.chunk_ms):
            chunk = self.encoder_result(now)
            opened = caller.utterance
            caller.listen(chunk)
            if caller.utterance != opened:
                turn_begins = len([s for s in self.speeches if s.start < now]) - 1
            turn = [s for s in self.speeches[turn_begins:] if s.start < now] if caller.is_open else []
            if (transcript := self.recognition(turn, now)) is not None:
                caller.recognized(transcript, caller.utterance)
            text_input = " ".join(t for at, t in self.typed if now - self.chunk_ms < at <= now)
            obs = observation(now, caller, reply.state(), chunk, text_input)
            held = hold.decision if hold.holds_for(obs) else None
            response = turn_policy.decide(state, obs, policy, estimator, turn_model, default_model)
            if held is not None:
                assert (response.decision.action, response.state) == (held.decision.action, held.state), (
                    f"at {now} ms the decision of {held.state.last_reason!r} was to hold, but the policy "
                    f"now says {response.decision.reason!r}")
            else:
                hold.decided(obs, response)
            state = response.state
            steps.append(Step(now, response.decision.action, response.decision.reason, response, obs))
            if response.decision.action == api.ACTION_CHANGE_MODE:
                answers = bool(response.confirmation)
            else:
                answers = bool(text_input or caller.text) or response.decision.action == api.ACTION_RESPOND_TO_SOUND
            caller.settle(state.answered_utterance, response.decision.action)
            reply.apply(response.decision.action, answers, self.chunk_ms)
        return steps


class ReplySide:
    """The gateway's reply turn: started by an answering RESPOND, held by PAUSE, plays `reply_ms` of audio."""

    def __init__(self, reply_ms: int):
        self.reply_ms = reply_ms
        self.turns = 0
        self.left_ms = 0
        self.paused = False

    def state(self) -> decider_pb2.ReplyState:
        if self.left_ms <= 0:
            return decider_pb2.ReplyState()
        return decider_pb2.ReplyState(active=True, turn_id=f"turn-{self.turns}", paused=self.paused)

    def apply(self, action: int, answers: bool, chunk_ms: int) -> None:
        """`answers`: a RESPOND had something to answer (typed text, a transcript or a sound), or a
        CHANGE_MODE something to confirm."""
        if action in (api.ACTION_RESPOND, api.ACTION_RESPOND_TO_SOUND, api.ACTION_CHANGE_MODE) and answers:
            self.turns += 1
            self.left_ms, self.paused = self.reply_ms, False
        elif action == api.ACTION_PAUSE_SPEAKING:
            self.paused = True
        elif action in (api.ACTION_RESUME_SPEAKING, api.ACTION_IGNORE_BACKCHANNEL):
            self.paused = False
        elif action == api.ACTION_STOP_SPEAKING:
            self.left_ms, self.paused = 0, False
        elif self.left_ms > 0 and not self.paused:
            self.left_ms -= chunk_ms


def events(steps: list[Step]) -> list[tuple[int, str]]:
    """(time, action) of every decision other than KEEP_LISTENING."""
    return [(s.now_ms, s.name) for s in steps if s.action != api.ACTION_KEEP_LISTENING]


def first(steps: list[Step], action: int, after: int = 0) -> Step | None:
    return next((s for s in steps if s.action == action and s.now_ms > after), None)
