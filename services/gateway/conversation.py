"""The perceive -> decide -> respond loop of one Converse stream: a short orchestrator.

Caller frames become chunks (FrameIntake); per chunk the encoder decodes, runs
VAD and tags sounds, the caller's turn is updated (CallerTurn), the decider
picks an action from what it is shown (observation), and the action is carried
out on the reply side (ReplyController). Recognition runs beside the loop,
speculatively (SpeculativeRecognizer); replies run beside it too, so listening
never stops while the system speaks, which is what makes barge-in possible.

All work for the session goes through one Inbox and is done one message at a
time, so encoder and decider state advance in order; progress is parked in
Redis after every chunk (ProgressSaver).
"""
from __future__ import annotations

import asyncio
import logging
import weakref

from soundloop import instructions, metrics
from soundloop.audio import codec
from soundloop.decider.v1 import decider_pb2
from soundloop.encoder.v1 import encoder_pb2
from soundloop.errors import InvalidRequest
from soundloop.settings import GatewaySettings
from soundloop.v1 import interaction_pb2 as pb

from . import perception_events
from .caller_turn import CallerTurn, Transcript
from .clock import Clock, loop_clock
from .decision_hold import DecisionHold
from .events import EventSink
from .inbox import CallerChunk, EndOfInput, Inbox, Message, RecognitionFailed, Recognized, ReplyFinished, TypedText
from .intake import FrameIntake
from .observation import observation
from .progress import ProgressSaver
from .recognition import SpeculativeRecognizer
from .reply_controller import ReplyController
from .session_store import SessionSnapshot, SessionStore, SessionStoreUnavailable, SessionTakenOver
from .stage_clients import StageClients
from .turn_metrics import TurnClock

log = logging.getLogger(__name__)

# Open conversations of this process, for the audio backlog gauge (weak: a closed one just goes).
_OPEN: weakref.WeakSet[Conversation] = weakref.WeakSet()
metrics.observe_audio_backlog(lambda: [c.audio_backlog_s for c in list(_OPEN)])

# Actions that release a held reply: the overlap was a backchannel, or nothing.
_RELEASE = (pb.ACTION_IGNORE_BACKCHANNEL, pb.ACTION_RESUME_SPEAKING)


class Conversation:
    def __init__(self, snapshot: SessionSnapshot, stages: StageClients, store: SessionStore, sink: EventSink,
                 settings: GatewaySettings, clock: Clock = loop_clock, operator_instructions: str = ""):
        """`operator_instructions`: the tenant's system prompt ("": the gateway's default)."""
        self.session_id, self.config = snapshot.session_id, snapshot.config
        self._stages, self._sink, self._clock = stages, sink, clock
        self._in = codec.Format.from_proto(self.config.input_audio)
        self._policy = decider_pb2.DeciderPolicy(turn_detection=self.config.turn_detection,
                                                 sound_policy=self.config.sound_policy, response=self.config.response)
        self._encoder_state, self._decider_state = snapshot.encoder_state, snapshot.decider_state
        self.audio_ms = snapshot.audio_ms  # caller audio processed: the session's clock, continued on resume
        self._inbox = Inbox(settings.inbox_audio_ms // settings.chunk_ms)
        self._chunk_s = settings.chunk_ms / 1000
        _OPEN.add(self)
        self._intake = FrameIntake(self._in, settings.chunk_ms, snapshot.audio_ms, clock)
        self._opened_at, self._opened_ms = clock(), snapshot.audio_ms  # for the pace check
        self._max_ahead_s, self._max_pending_texts = settings.max_ahead_s, settings.max_pending_texts
        self._caller = CallerTurn.resumed(snapshot.utterances, snapshot.open_turn)
        self._recognizer = SpeculativeRecognizer(
            stages, self._caller, self._inbox, clock, language=self.config.language or "en",
            partial_every_s=(settings.partial_transcript_ms or 0) / 1000, early_ms=settings.early_recognition_ms)
        self._progress = ProgressSaver(store, snapshot, lambda: self._replies.history, clock)
        self._replies = ReplyController(snapshot, stages, self._progress, sink, self._inbox, clock,
                                        lambda: self.audio_ms,
                                        instructions=operator_instructions or settings.default_instructions,
                                        playback_lead_ms=settings.playback_lead_ms,
                                        first_clause_budget_ms=settings.first_clause_budget_ms,
                                        speculate=settings.speculative_reply)
        self._replies.max_sentences = self.response_policy.max_sentences
        self._last_decision: tuple[int, str] | None = None
        self._hold = DecisionHold()
        self._unrecognized = -1  # the last utterance whose failed recognition the caller was told of
        self._input_ended = False
        self.worker: asyncio.Task | None = None
        self.finished = asyncio.Event()
        self._closed = False

    @property
    def response_policy(self) -> pb.ResponsePolicy:
        """What the session answers: the config's, until an instruction changed it (the decider's state)."""
        return instructions.in_force(self._decider_state, self.config.response)

    @property
    def _answers_every_turn(self) -> bool:
        # Only then is generating a reply before the decision worth its CPU: in the other modes most
        # turns get none.
        return self.response_policy.mode in (pb.RESPONSE_MODE_UNSPECIFIED, pb.RESPONSE_MODE_CONVERSE)

    # ------------------------------------------------------------ inputs (from the stream reader)

    @property
    def audio_backlog_s(self) -> float:
        """Caller audio received but not yet sent to the stages."""
        return self._inbox.audio_chunks_queued * self._chunk_s

    def start(self) -> None:
        self._replies.player.start()
        self.worker = asyncio.create_task(self._work(), name=f"conversation-{self.session_id}")
        if self._caller.is_open and self._caller.audio.speech_end is not None:
            self._recognizer.request()  # a restored turn whose speech had ended: it may be answerable

    async def add_audio(self, frame: bytes) -> None:
        """Caller audio, already validated. Waits while the inbox's audio lane is full, and while the
        caller is more than `max_ahead_s` ahead of real time (so the stream is read no faster)."""
        for chunk in self._intake.add(frame):
            await self._inbox.put_audio(CallerChunk(chunk))
        ahead_s = (self._intake.received_ms - self._opened_ms) / 1000 - (self._clock() - self._opened_at)
        if ahead_s > self._max_ahead_s:
            await asyncio.sleep(ahead_s - self._max_ahead_s)

    def add_text(self, text: str) -> None:
        """Raises InvalidRequest while `max_pending_texts` typed messages are queued."""
        if self._inbox.pending_texts >= self._max_pending_texts:
            raise InvalidRequest(f"{self._max_pending_texts} typed messages are still queued; "
                                 "send more once they are handled")
        self._inbox.put_control(TypedText(text))

    def add_playback(self, report: pb.PlaybackReport) -> None:
        self._replies.heard(report)

    async def end_of_input(self) -> None:
        if rest := self._intake.flush():
            await self._inbox.put_audio(CallerChunk(rest))
        self._inbox.put_control(EndOfInput())

    async def close(self) -> None:
        """The stream ended (either way): stop replies, keep what was heard, save counters. Idempotent."""
        if self._closed:
            return
        self._closed = True
        _OPEN.discard(self)
        if self.worker and not self.worker.done():
            self.worker.cancel()
            await asyncio.gather(self.worker, return_exceptions=True)
        self._recognizer.cancel()
        await self._replies.speculator.close()
        await self._replies.interrupt(reason="caller disconnected")
        await self._replies.player.stop()
        try:
            await self._save(force=True)
        except SessionTakenOver:
            pass  # the new owner has the session now
        except SessionStoreUnavailable as err:
            log.warning("session %s: last progress not saved: %s", self.session_id, err)

    # ------------------------------------------------------------ the loop

    async def _work(self) -> None:
        try:
            # End of input jumps the audio lane; the audio sent before it is still worked through.
            while not (self._input_ended and not self._inbox.audio_pending):
                await self._handle(await self._inbox.get())
            await self._finish_input()
        finally:
            self.finished.set()

    async def _handle(self, message: Message) -> None:
        match message:
            case CallerChunk(data):
                await self._process_chunk(data)
            case TypedText(text):
                await self._decide(text_input=text)
            case Recognized():
                await self._recognized(message)
            case RecognitionFailed():
                await self._recognition_failed(message)
            case ReplyFinished(reply):
                await self._replies.finished(reply)
            case EndOfInput():
                self._input_ended = True

    async def _process_chunk(self, data: bytes) -> None:
        chunk = await self._stages.analyze_chunk(encoder_pb2.AnalyzeChunkRequest(
            format=self._in.to_proto(), audio=data, stream_state=self._encoder_state))
        self._encoder_state = chunk.stream_state
        self.audio_ms += self._in.duration_ms(len(data))
        utterance = self._caller.utterance
        boundaries = self._caller.listen(chunk)
        if self._caller.utterance != utterance:
            self._recognizer.turn_opened()
        self._recognizer.after_chunk(
            chunk, [b.sample for b in boundaries if b.kind == encoder_pb2.BOUNDARY_KIND_SPEECH_END])
        for at_ms, event in perception_events.of_chunk(boundaries, chunk.sound_tags):
            await self._sink.emit(at_ms, **event)
        await self._speculate()
        await self._decide(chunk=chunk)
        await self._save(chunk.pcm16k)

    async def _recognized(self, result: Recognized) -> None:
        rerun = self._recognizer.returned()
        if not self._caller.recognized(Transcript(result.text, result.until, result.ran), result.utterance):
            return  # the turn it belonged to is gone
        if result.text:
            await self._emit_transcript(is_final=False, stability=0.8 if self._caller.covered else 0.5)
            if self._caller.in_speech and self._caller.quiet_from is None and self._answers_every_turn:
                # A partial of a caller still talking: warm the LLM's cache with it. Not once they have
                # gone quiet: the final recognition is on its way, and the answer's generation would
                # wait for this prefill to finish (services/gateway/speculation.py).
                self._replies.prefill(result.text)
        if rerun:
            self._recognizer.request()
        await self._speculate()  # before the decision that may take it up
        await self._decide()  # the decider may be waiting for exactly this transcript

    async def _recognition_failed(self, failed: RecognitionFailed) -> None:
        """Tells the caller, once per turn, that what they said was not understood, rather than leave
        them in silence; the turn's audio stays, so the next recognition (at the next end of
        speech, or now if newer audio waits) still hears all of it."""
        rerun = self._recognizer.returned()
        if failed.utterance == self._caller.utterance and not self._caller.in_speech \
                and failed.utterance != self._unrecognized:
            self._unrecognized = failed.utterance
            await self._sink.emit(self.audio_ms, error=pb.Error(
                code=failed.code, message=f"your last words were not recognized ({failed.message}); "
                                          "please say them again"))
        if rerun:
            self._recognizer.request()

    async def _speculate(self) -> None:
        text = self._caller.quiet_text if self._answers_every_turn else ""
        if text and (said := instructions.parse(text)) is not None and said.changes_policy:
            text = ""  # an instruction is confirmed or noted, not answered by the LLM
        await self._replies.speculate(text)

    # ------------------------------------------------------------ decisions

    async def _decide(self, chunk: encoder_pb2.AnalyzeChunkResponse | None = None, text_input: str = "") -> None:
        obs = observation(self.audio_ms, self._caller, self._replies.state, chunk, text_input)
        if self._hold.holds_for(obs):
            await self._emit_decision(self._hold.decision.decision)  # the same decision, for this chunk too
            return
        before = pb.ResponsePolicy()
        before.CopyFrom(self.response_policy)
        response = await self._stages.decide(decider_pb2.DecideRequest(
            state=self._decider_state, observation=obs, policy=self._policy))
        self._decider_state = response.state
        self._hold.decided(obs, response)
        changed = self.response_policy != before
        if changed:
            self._replies.max_sentences = self.response_policy.max_sentences
        await self._act(response, obs, policy_changed=changed)

    async def _act(self, response: decider_pb2.DecideResponse, obs: decider_pb2.Observation,
                   policy_changed: bool = False) -> None:
        decision, action = response.decision, response.decision.action
        metrics.DECISIONS.add(1, {"action": pb.Action.Name(action)})
        clock = TurnClock(decision=self._clock())
        answer = None  # (cause, prompt) of a reply to start
        said = ""  # the words of a turn that changed the policy
        if action in (pb.ACTION_CHANGE_MODE, pb.ACTION_NO_REPLY):
            said = await self._unanswered_turn(obs, clock)
            if action == pb.ACTION_CHANGE_MODE and response.confirmation:
                answer = pb.TURN_CAUSE_INSTRUCTION, said
            else:
                await self._replies.note(said)
        elif action == pb.ACTION_RESPOND and obs.text_input:
            answer = pb.TURN_CAUSE_TEXT, obs.text_input
        elif action == pb.ACTION_RESPOND and self._caller.text:
            await self._emit_transcript(is_final=True, stability=1.0)
            answer = pb.TURN_CAUSE_SPEECH, self._take_caller_turn(clock).text
            said = answer[1]
        elif action == pb.ACTION_RESPOND and self._caller.is_open and self._caller.covered:
            # Speech the recogniser made out no words of (the decider's "speech not understood"):
            # the reply asks the caller to say it again.
            self._take_caller_turn(clock)
            answer = pb.TURN_CAUSE_UNCLEAR_SPEECH, ""
        elif action == pb.ACTION_RESPOND_TO_SOUND:
            superseded = response.state.answered_utterance == self._caller.utterance
            if self._caller.is_open and self._caller.text and superseded:  # a half-said turn: keep its words
                await self._replies.note(await self._unanswered_turn(obs, clock))
            answer = pb.TURN_CAUSE_SOUND, response.sound.label
        if self._caller.settle(response.state.answered_utterance, action):
            self._recognizer.cancel()
        changed = pb.ModeChanged(response=self.response_policy, instruction=said or obs.text_input) \
            if policy_changed else None
        if answer is not None:
            await self._reply(*answer, response, clock, changed)
        elif action != pb.ACTION_RESPOND:  # a RESPOND with nothing to answer changes nothing
            await self._emit_decision(decision)
            if changed is not None:
                await self._sink.emit(self.audio_ms, mode_changed=changed)
            if action == pb.ACTION_PAUSE_SPEAKING:
                self._replies.hold(self._intake.arrivals.wall_at(perception_events.ms(self._caller.last_onset)))
            elif action in _RELEASE:
                self._replies.release()
            elif action == pb.ACTION_STOP_SPEAKING:
                await self._replies.interrupt(reason=decision.reason)

    async def _reply(self, cause: int, prompt: str, response: decider_pb2.DecideResponse, clock: TurnClock,
                     mode_changed: pb.ModeChanged | None) -> None:
        await self._replies.interrupt(reason="superseded by a new turn")
        decision = response.decision
        decision.turn_id = self._replies.next_turn_id()
        await self._emit_decision(decision)
        if mode_changed is not None:
            await self._sink.emit(self.audio_ms, mode_changed=mode_changed)
        if cause == pb.TURN_CAUSE_INSTRUCTION:
            await self._replies.confirm(decision.turn_id, prompt, response.confirmation, clock)
        else:
            await self._replies.start(decision.turn_id, cause, prompt, clock, max_sentences=response.max_sentences,
                                      heard_sound=response.sound.label if cause == pb.TURN_CAUSE_SPEECH else "")

    async def _emit_decision(self, decision: pb.Decision) -> None:
        key = (decision.action, decision.reason if decision.action != pb.ACTION_KEEP_LISTENING else "")
        if self.config.decision_events == pb.DECISION_EVENTS_ALL or key != self._last_decision:
            self._last_decision = key
            await self._sink.emit(self.audio_ms, decision=decision)

    async def _unanswered_turn(self, obs: decider_pb2.Observation, clock: TurnClock) -> str:
        """The words of a turn that gets no answer of its own (typed, or the caller's turn, closed
        with its final transcript: transcribe-only callers get every utterance final)."""
        if obs.text_input:
            return obs.text_input
        if not self._caller.is_open:
            return ""
        if self._caller.text:
            await self._emit_transcript(is_final=True, stability=1.0)
        return self._take_caller_turn(clock).text

    def _take_caller_turn(self, clock: TurnClock) -> Transcript:
        """Closes the caller turn a reply answers; its recognition and end of speech go on the turn's clock."""
        transcript, speech_end = self._caller.transcript, self._caller.audio.speech_end
        clock.recognition = transcript.ran
        if speech_end is not None:
            clock.speech_end = self._intake.arrivals.wall_at(perception_events.ms(speech_end))
        self._close_caller_turn()
        return transcript

    def _close_caller_turn(self) -> None:
        self._caller.close()
        self._recognizer.cancel()

    # ------------------------------------------------------------ end of input

    async def _finish_input(self) -> None:
        """The caller sent end_of_input: answer a pending turn, let the reply finish, then stop."""
        if self._caller.is_open and not self._caller.covered:
            self._caller.input_ended()
            self._recognizer.request()
        while self._recognizer.busy or not self._inbox.empty:
            await self._handle(await self._inbox.get())
        if self._caller.is_open and self._caller.text and self._replies.active is None:
            answers = instructions.answers_turn(self.response_policy, self._caller.text, typed=False)
            decision = pb.Decision(action=pb.ACTION_RESPOND if answers else pb.ACTION_NO_REPLY,
                                   reason="end of input", confidence=1.0)
            await self._act(decider_pb2.DecideResponse(decision=decision), decider_pb2.Observation())
        while self._replies.active is not None:
            await self._handle(await self._inbox.get())

    # ------------------------------------------------------------ events and state

    async def _emit_transcript(self, is_final: bool, stability: float) -> None:
        await self._sink.emit(self.audio_ms, transcript=perception_events.transcript(self._caller, is_final, stability))

    async def _save(self, chunk_pcm: bytes = b"", force: bool = False) -> None:
        reply = self._replies.active
        await self._progress.save(self._encoder_state, self._decider_state, self.audio_ms, self._replies.turns,
                                  self._caller, chunk_pcm, self._sink.last_sequence, reply.turn_id if reply else "",
                                  force=force)
