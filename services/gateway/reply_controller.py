"""The reply side of a conversation: turns started, held, interrupted and finished, and the
history the LLM sees, which keeps only the words the caller actually heard.

At most one reply turn is active. Its audio goes out through the ReplyPlayer,
paced at real time, so an interruption stops it within one piece; the caller's
playback reports, when it sends them, say how much of it was really heard.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from soundloop import errors, metrics as sl_metrics, telemetry
from soundloop.audio import codec
from soundloop.decider.v1 import decider_pb2
from soundloop.v1 import interaction_pb2 as pb

from . import prompts
from .clock import Clock
from .events import EventSink
from .inbox import Inbox, ReplyFinished
from .playback import ReplyPlayer
from .progress import ProgressSaver
from .reply import ReplyOutput, ReplyTurn, SpokenPhrase
from .session_store import ChatTurn, SessionSnapshot
from .speculation import ReplySpeculator
from .stage_clients import StageClients
from .turn_metrics import TurnClock
from .turn_tracing import open_turn, record_turn

log = logging.getLogger(__name__)


class ReplyController:
    def __init__(self, snapshot: SessionSnapshot, stages: StageClients, saver: ProgressSaver, sink: EventSink,
                 inbox: Inbox, clock: Clock, audio_ms: Callable[[], float], *, instructions: str,
                 playback_lead_ms: int, first_clause_budget_ms: int = 0, speculate: bool = True):
        self._sid = snapshot.session_id
        self._saver = saver
        self._sink = sink
        self._inbox = inbox
        self._clock = clock
        self._audio_ms = audio_ms  # the session's audio clock, for event offsets
        # The operator's prompt first; the caller's instructions only below it, marked as theirs.
        self._instructions = prompts.system_prompt(instructions, snapshot.config.instructions)
        self._history = list(snapshot.history)
        self.turns = snapshot.turns
        out = codec.Format.from_proto(snapshot.config.output_audio)
        self.player = ReplyPlayer(self._send_audio, out.bytes_per_sample, out.sample_rate_hz, playback_lead_ms,
                                  clock=clock)
        self._output = ReplyOutput(stages, self.player, snapshot.config.output_audio, snapshot.config.voice,
                                   self._sid, self._send_text, clock, first_clause_budget_ms / 1000)
        self.active: ReplyTurn | None = None
        # The session's lasting sentence limit (0: none), told to the LLM in every answer's prompt.
        self.max_sentences = 0
        self.speculator = ReplySpeculator(stages, self._sid, enabled=speculate)
        self._heard: dict[str, int] = {}  # playback reports: samples played per turn

    @property
    def state(self) -> decider_pb2.ReplyState:
        reply = self.active
        return decider_pb2.ReplyState(active=reply is not None, turn_id=reply.turn_id if reply else "",
                                      paused=self.player.paused)

    def next_turn_id(self) -> str:
        self.turns += 1
        return f"t{self.turns}"

    def heard(self, report: pb.PlaybackReport) -> None:
        self._heard[report.turn_id] = max(self._heard.get(report.turn_id, 0), report.samples_played)

    async def speculate(self, caller_text: str) -> None:
        """Generates the answer to `caller_text` ahead of the decision ("": drop any such generation)."""
        await self.speculator.want(self._answering(caller_text) if caller_text and self.active is None else None)

    def prefill(self, partial_text: str) -> None:
        """Puts the prompt up to the caller's words so far into the LLM's cache, while they speak."""
        if partial_text and self.active is None:
            self.speculator.prefill(self._answering(partial_text))

    def _answering(self, caller_text: str) -> list:
        turn = ChatTurn("user", prompts.user_message(pb.TURN_CAUSE_SPEECH, caller_text))
        return prompts.conversation(self._instructions, [*self._history, turn], self.max_sentences)

    async def start(self, turn_id: str, cause: int, prompt: str, clock: TurnClock, max_sentences: int = 0,
                    heard_sound: str = "") -> None:
        """Starts answering `prompt` in at most `max_sentences` sentences (0: no limit), reacting to
        `heard_sound` too (a sound heard while the caller spoke); the caller of this has interrupted
        any active turn first."""
        await self._remember(ChatTurn("user", prompts.user_message(cause, prompt, heard_sound)))
        await self._emit(turn_started=pb.TurnStarted(turn_id=turn_id, cause=cause, prompt=prompt,
                                                     heard_sound=heard_sound))
        opener, reply_sentences = "", max_sentences
        if cause == pb.TURN_CAUSE_SOUND:
            # The decider sets no limit for a sound: the session's holds. The sound is named at once, then
            # one sentence of the LLM's (asked for in the sound's message, not in the system prompt, which
            # stays as in other turns so the LLM's prompt cache still fits).
            max_sentences = max_sentences or self.max_sentences
            opener = prompts.sound_opener(prompt)
            reply_sentences = min(max_sentences or prompts.SOUND_REPLY_SENTENCES, prompts.SOUND_REPLY_SENTENCES)
        messages = prompts.conversation(self._instructions, self._history, max_sentences)
        generation = self.speculator.adopt(messages)
        if generation is None:
            await self.speculator.drop()  # it answered something else
        self._begin(ReplyTurn(turn_id, cause, prompt, messages, clock, self._output, generation, reply_sentences,
                              opener=opener))

    async def confirm(self, turn_id: str, instruction: str, phrase: str, clock: TurnClock) -> None:
        """Speaks the fixed `phrase` that confirms the caller's `instruction` (a mode change)."""
        await self.speculator.drop()
        await self._remember(ChatTurn("user", instruction))
        await self._emit(turn_started=pb.TurnStarted(turn_id=turn_id, cause=pb.TURN_CAUSE_INSTRUCTION,
                                                     prompt=instruction))
        self._begin(ReplyTurn(turn_id, pb.TURN_CAUSE_INSTRUCTION, instruction, [], clock, self._output,
                              SpokenPhrase(phrase)))

    async def note(self, caller_text: str) -> None:
        """Keeps words the caller said but that get no reply (an instruction, or a turn the response mode
        does not answer), so that a later reply knows them ("what is on my list?")."""
        await self.speculator.drop()
        if caller_text.strip():
            await self._remember(ChatTurn("user", caller_text))

    def _begin(self, reply: ReplyTurn) -> None:
        self.active = reply
        span = open_turn(reply, self._sid)
        with telemetry.within(span, session_id=self._sid, turn_id=reply.turn_id):  # the reply's calls carry it
            task = reply.start()
        task.add_done_callback(lambda _: self._inbox.put_control(ReplyFinished(reply)))

    def hold(self, overlap_onset: float | None) -> None:
        """The caller started talking over the reply: its audio waits until the overlap is judged."""
        self.player.pause()
        if self.active is not None and self.active.clock.overlap_onset is None:
            self.active.clock.overlap_onset = overlap_onset

    def release(self) -> None:
        """The overlap was a backchannel (or nothing): the reply goes on."""
        self.player.resume()
        if self.active is not None:
            self.active.clock.overlap_onset = None

    async def finished(self, reply: ReplyTurn) -> None:
        if reply is not self.active:
            return  # already interrupted and accounted for
        self.active = None
        failure = reply.failure
        text = reply.text
        if failure is not None:
            status = errors.status_of(failure, "gateway")
            log.error("reply %s of session %s failed", reply.turn_id, self._sid, exc_info=failure)
            await self._emit(error=pb.Error(code=status.code.name,
                                            message=f"reply {reply.turn_id} failed: {status.message}"))
            self.player.flush(reply.turn_id)  # a half-synthesized clause is not played on
            text = reply.heard_text(self._samples_heard(reply))  # the rest was never spoken
        await self._remember(ChatTurn("assistant", text))
        await self._emit(turn_completed=pb.TurnCompleted(
            turn_id=reply.turn_id, text=text, audio_samples=self.player.samples_sent(reply.turn_id),
            metrics=self._metrics(reply, "completed")))

    async def interrupt(self, reason: str) -> None:
        reply, self.active = self.active, None
        if reply is None:
            return
        await reply.cancel()
        self.player.flush(reply.turn_id)
        heard = self._samples_heard(reply)
        heard_text = reply.heard_text(heard)
        if heard_text:
            await self._remember(ChatTurn("assistant", heard_text))
        log.info("turn %s interrupted (%s): heard %d samples", reply.turn_id, telemetry.without_content(reason), heard)
        await self._emit(turn_interrupted=pb.TurnInterrupted(
            turn_id=reply.turn_id, heard_text=heard_text, samples_heard=heard,
            metrics=self._metrics(reply, "interrupted")))

    def _samples_heard(self, reply: ReplyTurn) -> int:
        sent = self.player.samples_sent(reply.turn_id)
        return min(sent, self._heard.get(reply.turn_id, sent))

    def _metrics(self, reply: ReplyTurn, outcome: str) -> pb.TurnMetrics:
        """The turn's latency breakdown, also written as a trace (when tracing is on)."""
        t = reply.timings
        first_sent, last_sent = self.player.first_sent.get(reply.turn_id), self.player.last_sent.get(reply.turn_id)
        metrics = reply.clock.metrics(t.first_token, t.first_clause, t.first_audio, first_sent, last_sent)
        record_turn(reply, self._sid, outcome, metrics, last_sent, self._clock())
        for field, value in metrics.ListFields():
            if (histogram := sl_metrics.TURN_LATENCIES.get(field.name)) is not None:
                histogram.record(value.ToNanoseconds() / 1e9)
        return metrics

    @property
    def history(self) -> list[ChatTurn]:
        return self._history

    async def _remember(self, turn: ChatTurn) -> None:
        self._history.append(turn)
        await self._saver.append_history(len(self._history) - 1, [turn])

    async def _emit(self, **event) -> None:
        await self._sink.emit(self._audio_ms(), **event)

    async def _send_text(self, turn_id: str, delta: str) -> None:
        await self._emit(reply_text=pb.ReplyText(turn_id=turn_id, delta=delta))

    async def _send_audio(self, turn_id: str, data: bytes, start_sample: int) -> None:
        await self._emit(reply_audio=pb.ReplyAudio(turn_id=turn_id, data=data, start_sample=start_sample))
