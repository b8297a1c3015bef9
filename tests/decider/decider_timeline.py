"""Scripted timelines for the turn policy, replayed on a virtual clock.

    steps = Timeline().speech(0, 1200, "I would like to book").speech(2400, 3400, "a table for two.").replay(eot)

A Timeline turns scripted caller events into one Observation per 100 ms chunk,
the way the gateway builds them: VAD state and boundaries from the speech
segments, utterances numbered from 1, transcripts that lag the audio by
`asr_delay_ms` (partial while the words come in, final `asr_delay_ms` after the
utterance ends), sound tags, typed text. `replay` feeds them to the real
TurnPolicy and plays the gateway's part for the reply: RESPOND starts a reply
of `reply_ms` of audio, PAUSE holds it, RESUME / IGNORE_BACKCHANNEL release it,
STOP cancels it.
"""
from __future__ import annotations

import dataclasses

from services.decider import turn_policy
from soundloop.decider.v1 import decider_pb2
from soundloop.encoder.v1 import encoder_pb2
from soundloop.v1 import interaction_pb2 as api

SAMPLES_PER_MS = 16


class ScriptedEstimator:
    """Test double of the end-of-turn LM: probabilities from a table (the LM has its own tests)."""

    def __init__(self, table: dict[str, float], default: float | None = 0.1):
        """`default` scores texts not in the table (the lagging partial transcripts); None forbids them."""
        self.table = table
        self.default = default
        self.calls: list[str] = []

    def probability(self, text: str) -> float:
        self.calls.append(text)
        if text in self.table:
            return self.table[text]
        if self.default is None:
            raise KeyError(f"no scripted end-of-turn probability for {text!r}")
        return self.default


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
        """The caller speaks from `start` to `end` ms; the recogniser hears `text`, `asr_delay_ms` late."""
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

    def _transcript(self, speech: Speech, now: int) -> tuple[str, bool]:
        heard_until = now - speech.asr_delay_ms
        if heard_until >= speech.end:
            return speech.text, True
        if heard_until <= speech.start:
            return "", False
        words = speech.text.split()
        n = len(words) * (heard_until - speech.start) // (speech.end - speech.start)
        return " ".join(words[:n]), False

    def observation(self, now: int) -> decider_pb2.Observation:
        """What the gateway sends at the end of the chunk ending at `now`."""
        obs = decider_pb2.Observation(now_ms=now)
        begin = now - self.chunk_ms
        started = [(i, s) for i, s in enumerate(self.speeches) if s.start < now]
        for s in self.speeches:
            if begin <= s.start < now:
                obs.boundaries.add(kind=encoder_pb2.BOUNDARY_KIND_SPEECH_START, sample=s.start * SAMPLES_PER_MS)
            if begin < s.end <= now:
                obs.boundaries.add(kind=encoder_pb2.BOUNDARY_KIND_SPEECH_END, sample=s.end * SAMPLES_PER_MS)
        if started:
            index, last = started[-1]
            obs.utterance = index + 1
            obs.in_speech = last.start < now < last.end
            if obs.in_speech:
                obs.speech_ms = now - last.start
            else:
                obs.silence_ms = now - last.end
            obs.transcript, obs.transcript_is_final = self._transcript(last, now)
        else:
            obs.silence_ms = now
        for snd in self.sounds:
            if snd.start < now and begin < snd.end:
                obs.sound_tags.add(label=snd.label, score=snd.score,
                                   start_sample=max(snd.start, begin) * SAMPLES_PER_MS,
                                   end_sample=min(snd.end, now) * SAMPLES_PER_MS)
        obs.text_input = " ".join(t for at, t in self.typed if begin < at <= now)
        return obs

    def replay(self, estimator, policy: decider_pb2.DeciderPolicy | None = None, until: int | None = None,
               reply_ms: int = 3000) -> list[Step]:
        """Runs the policy over the timeline, playing the gateway's reply side."""
        policy = policy or decider_pb2.DeciderPolicy()
        ends = [s.end for s in self.speeches] + [s.end for s in self.sounds] + [at for at, _ in self.typed]
        until = until or (max(ends, default=0) + 3000)
        state = decider_pb2.DeciderState()
        reply = ReplySide(reply_ms)
        steps = []
        for now in range(self.chunk_ms, until + 1, self.chunk_ms):
            obs = self.observation(now)
            obs.reply.CopyFrom(reply.state())
            response = turn_policy.decide(state, obs, policy, estimator)
            state = response.state
            steps.append(Step(now, response.decision.action, response.decision.reason, response, obs))
            reply.apply(response.decision.action, self.chunk_ms)
        return steps


class ReplySide:
    """The gateway's reply turn: started by RESPOND, held by PAUSE, plays `reply_ms` of audio."""

    def __init__(self, reply_ms: int):
        self.reply_ms = reply_ms
        self.turns = 0
        self.left_ms = 0
        self.paused = False

    def state(self) -> decider_pb2.ReplyState:
        if self.left_ms <= 0:
            return decider_pb2.ReplyState()
        return decider_pb2.ReplyState(active=True, turn_id=f"turn-{self.turns}", paused=self.paused)

    def apply(self, action: int, chunk_ms: int) -> None:
        if action in (api.ACTION_RESPOND, api.ACTION_RESPOND_TO_SOUND):
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
