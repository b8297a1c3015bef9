"""The perceive -> decide -> respond loop of one Converse stream.

Caller frames (10-200 ms) are batched into chunks (`chunk_ms`, 100 ms by
default); per chunk the encoder decodes, runs VAD and tags sounds, and the
decider picks an action. Recognition runs beside that loop, speculatively, as
soon as the caller goes quiet, so that when the decider says RESPOND the
transcript is usually ready. Replies run beside it too: listening never stops
while the system speaks, which is what makes barge-in possible.

All work for the session is serialized through one inbox, so encoder and
decider state advance in order; the state is written to Redis after every chunk.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from soundloop.audio import codec
from soundloop.decider.v1 import decider_pb2
from soundloop.encoder.v1 import encoder_pb2
from soundloop.llm.v1 import llm_pb2
from soundloop.sound_classes import NOT_SOUNDS
from soundloop.v1 import interaction_pb2 as pb

from .caller_audio import RATE, CallerTurnAudio
from .events import EventSink, duration
from .playback import ReplyPlayer
from .reply import ReplyTurn
from .session_store import ChatTurn, Progress, SessionSnapshot, SessionStore, SessionTakenOver
from .stage_clients import StageClients
from .turn_metrics import ArrivalClock, TurnClock
from .turn_tracing import record_turn

log = logging.getLogger(__name__)

# A transcript that stops this close to the end of speech covers it: the gap is at
# most one VAD frame (32 ms) plus resampler delay, too short to hold a word.
COVER_TOLERANCE = 512 + 64

ROLES = {"system": llm_pb2.ROLE_SYSTEM, "user": llm_pb2.ROLE_USER, "assistant": llm_pb2.ROLE_ASSISTANT}
HISTORY_TURNS = 24  # messages sent to the LLM, newest kept


class Conversation:
    def __init__(self, snapshot: SessionSnapshot, stages: StageClients, store: SessionStore,
                 sink: EventSink, *, chunk_ms: int, playback_lead_ms: int, instructions: str,
                 partial_transcript_ms: int = 3000, early_recognition_ms: int = 64):
        self.snapshot = snapshot
        self.config = snapshot.config
        self._stages = stages
        self._store = store
        self._sink = sink
        self._in = codec.Format.from_proto(self.config.input_audio)
        self._out = codec.Format.from_proto(self.config.output_audio)
        self._chunk_bytes = self._in.byte_count(chunk_ms)
        self._partial_every_s = partial_transcript_ms / 1000
        self._early_recognition_ms = early_recognition_ms
        self._early_run_start = -1  # the quiet run early recognition last started for
        self._asr_requested_until = -1  # stream sample the latest recognition request covers
        self._instructions = self.config.instructions or instructions
        self._policy = decider_pb2.DeciderPolicy(turn_detection=self.config.turn_detection,
                                                 sound_policy=self.config.sound_policy)
        self._encoder_state = snapshot.encoder_state
        self._decider_state = snapshot.decider_state
        self._history = list(snapshot.history)
        self._turns = snapshot.turns
        self._utterance = snapshot.utterances
        self._pending = bytearray()  # caller bytes not yet a full chunk
        # The session's clock continues across reconnects: the decider's state refers to it.
        self._processed_ms = snapshot.audio_ms
        self._received_samples = round(snapshot.audio_ms * self._in.sample_rate_hz / 1000)
        self._caller = CallerTurnAudio()
        if snapshot.open_turn:  # the caller was mid-turn when the last connection dropped
            turn = snapshot.open_turn
            self._caller.restore(turn.start, turn.pcm, turn.speech_end)
        self._turn_saved = snapshot.open_turn is not None  # turn_audio in Redis mirrors the open turn
        self._in_speech = False
        self._activity = (0, 0)  # (speech_ms, silence_ms) at the end of the last chunk
        self._transcript = ""  # latest recognition of the open caller turn
        self._transcript_until = -1  # stream sample the transcript covers up to
        self._transcript_asr: tuple[float, float] | None = None  # when its recognition ran
        self._last_onset = 0  # stream sample of the latest speech onset
        self._arrivals = ArrivalClock()
        self._asr_task: asyncio.Task | None = None
        self._asr_wanted = False
        self._last_partial = 0.0
        self._reply: ReplyTurn | None = None
        self._heard: dict[str, int] = {}  # playback reports: samples played per turn
        self._inbox: asyncio.Queue = asyncio.Queue()
        self._last_decision: tuple[int, str] | None = None
        self._player = ReplyPlayer(self._send_audio, self._out.bytes_per_sample, self._out.sample_rate_hz,
                                   playback_lead_ms)
        self.worker: asyncio.Task | None = None
        self.finished = asyncio.Event()
        self._closed = False

    # ------------------------------------------------------------ inputs (from the stream reader)

    def start(self) -> None:
        self._player.start()
        self.worker = asyncio.create_task(self._work(), name=f"conversation-{self.snapshot.session_id}")
        if self._caller.open and self._caller.speech_end is not None:
            self._request_asr()  # a restored turn whose speech had ended: it may be answerable

    def add_audio(self, data: bytes) -> None:
        """Caller audio, already validated. Cheap: only whole chunks go further."""
        self._pending += data
        self._received_samples += len(data) // self._in.bytes_per_sample
        self._arrivals.mark(1000 * self._received_samples / self._in.sample_rate_hz)
        while len(self._pending) >= self._chunk_bytes:
            self._inbox.put_nowait(("chunk", bytes(self._pending[:self._chunk_bytes])))
            del self._pending[:self._chunk_bytes]

    def add_text(self, text: str) -> None:
        self._inbox.put_nowait(("text", text))

    def add_playback(self, report: pb.PlaybackReport) -> None:
        self._heard[report.turn_id] = max(self._heard.get(report.turn_id, 0), report.samples_played)

    def end_of_input(self) -> None:
        if self._pending:
            self._inbox.put_nowait(("chunk", bytes(self._pending)))
            self._pending.clear()
        self._inbox.put_nowait(("end", None))

    async def close(self) -> None:
        """The stream ended (either way): stop replies, keep what was heard, save counters. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self.worker and not self.worker.done():
            self.worker.cancel()
            await asyncio.gather(self.worker, return_exceptions=True)
        if self._asr_task:
            self._asr_task.cancel()
        await self._interrupt_reply(reason="caller disconnected")
        await self._player.stop()
        with contextlib.suppress(SessionTakenOver):  # the new owner has the session now
            await self._save_progress()

    # ------------------------------------------------------------ the loop

    async def _work(self) -> None:
        try:
            while True:
                kind, payload = await self._inbox.get()
                if kind == "end":
                    await self._finish_input()
                    return
                await self._handle(kind, payload)
        finally:
            self.finished.set()

    async def _handle(self, kind: str, payload) -> None:
        if kind == "chunk":
            await self._process_chunk(payload)
        elif kind == "text":
            await self._decide(text_input=payload)
        elif kind == "asr":
            await self._asr_done(*payload)
        elif kind == "reply_done":
            await self._reply_finished(payload)
        elif kind == "asr_failed":
            self._asr_wanted = False  # logged already; the next speech end tries again

    @property
    def audio_ms(self) -> float:
        return self._processed_ms

    async def _process_chunk(self, data: bytes) -> None:
        result = await self._stages.analyze_chunk(encoder_pb2.AnalyzeChunkRequest(
            format=self._in.to_proto(), audio=data, stream_state=self._encoder_state))
        self._encoder_state = result.stream_state
        self._processed_ms += self._in.duration_ms(len(data))
        self._caller.append(result.pcm16k, result.pcm_start_sample)
        for boundary in result.boundaries:
            await self._on_boundary(boundary)
        self._in_speech = result.in_speech
        self._activity = (result.speech_ms, result.silence_ms)
        self._recognize_early(result)
        for tag in result.sound_tags:
            if tag.label in NOT_SOUNDS:
                continue  # speech is reported as transcripts, not as a sound
            await self._sink.emit(tag.end_sample / RATE * 1000, sound_event=pb.SoundEvent(
                label=tag.label, score=tag.score, start=duration(tag.start_sample / RATE * 1000),
                end=duration(tag.end_sample / RATE * 1000)))
        if (self._partial_every_s and self._in_speech and self._caller.open
                and time.monotonic() - self._last_partial > self._partial_every_s):
            self._request_asr()
        await self._decide(chunk=result)
        await self._save_progress(result.pcm16k)

    async def _save_progress(self, chunk_pcm: bytes = b"") -> None:
        """Parks the session's progress in Redis, the open caller turn's audio included."""
        caller = self._caller
        progress = Progress(self._encoder_state, self._decider_state, self._processed_ms, self._turns,
                            self._utterance, caller.turn_start, caller.speech_end)
        if caller.open and (not self._turn_saved or caller.trimmed or not chunk_pcm):
            progress.turn_audio_op, progress.turn_pcm = "set", caller.turn_pcm()
        elif caller.open:
            progress.turn_audio_op, progress.turn_pcm = "append", chunk_pcm
        elif self._turn_saved:
            progress.turn_audio_op = "clear"
        await self._store.save_progress(self.snapshot.session_id, self.snapshot.resume_token,
                                        self.snapshot.owner, progress)
        self._turn_saved, caller.trimmed = caller.open, False

    async def _on_boundary(self, boundary: encoder_pb2.SpeechBoundary) -> None:
        at_ms = boundary.sample / RATE * 1000
        if boundary.kind == encoder_pb2.BOUNDARY_KIND_SPEECH_START:
            self._last_onset = boundary.sample
            if self._caller.speech_started(boundary.sample):
                self._utterance += 1
                self._transcript, self._transcript_until = "", -1
                self._last_partial = time.monotonic()
            await self._sink.emit(at_ms, speech_started=pb.SpeechStarted())
        elif boundary.kind == encoder_pb2.BOUNDARY_KIND_SPEECH_END and self._caller.open:
            self._caller.speech_ended(boundary.sample)
            await self._sink.emit(at_ms, speech_stopped=pb.SpeechStopped())
            if not self._recognition_reaches(boundary.sample):
                self._request_asr(preempt=True)  # speculative: the turn may be over

    # ------------------------------------------------------------ recognition beside the loop

    def _recognize_early(self, result: encoder_pb2.AnalyzeChunkResponse) -> None:
        """Starts recognition as soon as the caller goes quiet, before the VAD's hangover
        confirms the end of speech: if the turn is over, its transcript is ready sooner."""
        if not (self._early_recognition_ms and self._caller.open and result.in_speech
                and result.pending_silence_ms >= self._early_recognition_ms):
            return
        run_start = self._caller.end - result.pending_silence_ms * RATE // 1000
        if abs(run_start - self._early_run_start) > RATE // 100:  # a new quiet run, not the same one again
            self._early_run_start = run_start
            self._request_asr(preempt=True)

    def _recognition_reaches(self, sample: int) -> bool:
        """A recognition covering the turn up to `sample` is done or under way."""
        reach = sample - COVER_TOLERANCE
        return self._asr_requested_until >= reach and (self._asr_busy() or self._transcript_until >= reach)

    def _request_asr(self, preempt: bool = False) -> None:
        """Recognizes the open turn so far. `preempt` drops a partial in flight: the
        recognition that can end the turn must not queue behind one that cannot."""
        if self._asr_task and not self._asr_task.done():
            if not preempt:
                self._asr_wanted = True  # run again with the newer audio when this one returns
                return
            self._asr_task.cancel()
        self._asr_wanted = False
        self._last_partial = time.monotonic()
        pcm, until, utterance = self._caller.turn_pcm(), self._caller.end, self._utterance
        if not pcm:
            return
        self._asr_requested_until = until
        self._asr_task = asyncio.create_task(self._recognize(pcm, until, utterance), name="asr")

    async def _recognize(self, pcm: bytes, until: int, utterance: int) -> None:
        try:
            started = time.monotonic()
            result = await self._stages.transcribe_utterance(encoder_pb2.TranscribeUtteranceRequest(
                pcm16k=pcm, language=self.config.language or "en", is_final=False))
            self._inbox.put_nowait(("asr", (result.text.strip(), until, utterance, (started, time.monotonic()))))
        except Exception:
            log.exception("recognition failed")
            self._inbox.put_nowait(("asr_failed", None))

    async def _asr_done(self, text: str, until: int, utterance: int, ran: tuple[float, float]) -> None:
        rerun, self._asr_wanted = self._asr_wanted, False
        if utterance != self._utterance or not self._caller.open:
            return  # the turn it belonged to is gone
        self._transcript, self._transcript_until, self._transcript_asr = text, until, ran
        start_ms = (self._caller.turn_start or 0) / RATE * 1000
        if text:
            await self._sink.emit(self.audio_ms, transcript=pb.Transcript(
                text=text, is_final=False, stability=0.8 if self._covers_turn() else 0.5,
                utterance=utterance, start=duration(start_ms), end=duration(until / RATE * 1000)))
        if rerun:
            self._request_asr()
        await self._decide()  # the decider may be waiting for exactly this transcript

    def _covers_turn(self) -> bool:
        """The transcript includes all speech of the open turn (the caller has gone quiet since)."""
        end = self._caller.speech_end
        return not self._in_speech and end is not None and self._transcript_until >= end - COVER_TOLERANCE

    # ------------------------------------------------------------ decisions

    async def _decide(self, chunk: encoder_pb2.AnalyzeChunkResponse | None = None, text_input: str = "") -> None:
        obs = decider_pb2.Observation(
            now_ms=int(self.audio_ms), in_speech=self._in_speech, text_input=text_input,
            utterance=self._utterance if self._caller.open else 0,
            reply=decider_pb2.ReplyState(active=self._reply is not None,
                                         turn_id=self._reply.turn_id if self._reply else "",
                                         paused=self._player.paused))
        # Between chunks (a transcript just arrived) the last chunk's activity still holds.
        obs.speech_ms, obs.silence_ms = self._activity
        if chunk is not None:
            obs.boundaries.extend(chunk.boundaries)
            obs.sound_tags.extend(chunk.sound_tags)
        if self._caller.open and (self._covers_turn() or self._in_speech or self._reply is not None):
            obs.transcript = self._transcript
            obs.transcript_is_final = self._covers_turn()
        response = await self._stages.decide(decider_pb2.DecideRequest(
            state=self._decider_state, observation=obs, policy=self._policy))
        self._decider_state = response.state
        await self._act(response, obs)

    async def _act(self, response: decider_pb2.DecideResponse, obs: decider_pb2.Observation) -> None:
        decision = response.decision
        action = decision.action
        clock = TurnClock(decision=time.monotonic())
        if action == pb.ACTION_RESPOND:
            if obs.text_input:
                await self._start_reply(pb.TURN_CAUSE_TEXT, obs.text_input, decision, clock)
            elif self._transcript:
                await self._sink.emit(self.audio_ms, transcript=pb.Transcript(
                    text=self._transcript, is_final=True, stability=1.0, utterance=self._utterance,
                    start=duration((self._caller.turn_start or 0) / RATE * 1000),
                    end=duration(self._transcript_until / RATE * 1000)))
                prompt = self._transcript
                clock.recognition = self._transcript_asr
                if self._caller.speech_end is not None:
                    clock.speech_end = self._arrivals.wall_at(self._caller.speech_end / RATE * 1000)
                self._close_caller_turn()
                await self._start_reply(pb.TURN_CAUSE_SPEECH, prompt, decision, clock)
            return
        if action == pb.ACTION_RESPOND_TO_SOUND:
            label = response.sound.label
            await self._start_reply(pb.TURN_CAUSE_SOUND, label, decision, clock)
            return
        await self._emit_decision(decision)
        if action == pb.ACTION_PAUSE_SPEAKING:
            self._player.pause()
            if self._reply is not None and self._reply.clock.overlap_onset is None:
                self._reply.clock.overlap_onset = self._arrivals.wall_at(self._last_onset / RATE * 1000)
        elif action in (pb.ACTION_IGNORE_BACKCHANNEL, pb.ACTION_RESUME_SPEAKING):
            self._close_caller_turn()  # "mm-hm" is not a turn to answer later
            self._player.resume()
            if self._reply is not None:
                self._reply.clock.overlap_onset = None
        elif action == pb.ACTION_STOP_SPEAKING:
            await self._interrupt_reply(reason=decision.reason)

    async def _emit_decision(self, decision: pb.Decision) -> None:
        key = (decision.action, decision.reason if decision.action != pb.ACTION_KEEP_LISTENING else "")
        if self.config.decision_events == pb.DECISION_EVENTS_ALL or key != self._last_decision:
            self._last_decision = key
            await self._sink.emit(self.audio_ms, decision=decision)

    def _close_caller_turn(self) -> None:
        self._caller.close_turn()
        self._transcript, self._transcript_until = "", -1
        if self._asr_task and not self._asr_task.done():
            self._asr_task.cancel()
        self._asr_wanted = False

    # ------------------------------------------------------------ replies

    async def _start_reply(self, cause: int, prompt: str, decision: pb.Decision, clock: TurnClock) -> None:
        if self._reply is not None:
            await self._interrupt_reply(reason="superseded by a new turn")
        self._turns += 1
        turn_id = f"t{self._turns}"
        decision.turn_id = turn_id
        await self._emit_decision(decision)
        user_text = prompt if cause != pb.TURN_CAUSE_SOUND else (
            f"[The assistant hears a sound: {prompt}. React to it briefly, as a helpful assistant would.]")
        await self._remember([ChatTurn("user", user_text)])
        await self._sink.emit(self.audio_ms, turn_started=pb.TurnStarted(turn_id=turn_id, cause=cause, prompt=prompt))
        messages = [llm_pb2.ChatMessage(role=llm_pb2.ROLE_SYSTEM, content=self._instructions)]
        messages += [llm_pb2.ChatMessage(role=ROLES[t.role], content=t.content) for t in self._history[-HISTORY_TURNS:]]

        async def on_text(delta: str) -> None:
            await self._sink.emit(self.audio_ms, reply_text=pb.ReplyText(turn_id=turn_id, delta=delta))

        self._reply = ReplyTurn(turn_id, messages, self._stages, self._player, self.config.output_audio,
                                self.config.voice, self.snapshot.session_id, self._out.bytes_per_sample, on_text)
        self._reply.clock = clock
        self._reply.cause, self._reply.prompt = cause, prompt
        task = self._reply.start()
        task.add_done_callback(lambda t, reply=self._reply: self._inbox.put_nowait(("reply_done", reply)))

    async def _reply_finished(self, reply: ReplyTurn) -> None:
        if reply is not self._reply:
            return  # already interrupted and accounted for
        self._reply = None
        task_error = reply.failure
        if task_error is not None:
            log.error("reply %s failed: %s", reply.turn_id, task_error)
            await self._sink.emit(self.audio_ms, error=pb.Error(code="UNAVAILABLE",
                                                                message=f"reply {reply.turn_id} failed: {task_error}"))
        await self._remember([ChatTurn("assistant", reply.text)])
        await self._sink.emit(self.audio_ms, turn_completed=pb.TurnCompleted(
            turn_id=reply.turn_id, text=reply.text, audio_samples=self._player.samples_sent(reply.turn_id),
            metrics=self._metrics(reply, "completed")))

    async def _interrupt_reply(self, reason: str) -> None:
        reply, self._reply = self._reply, None
        if reply is None:
            return
        await reply.cancel()
        sent = self._player.flush(reply.turn_id)
        heard = min(sent, self._heard.get(reply.turn_id, sent))
        heard_text = reply.heard_text(heard)
        if heard_text:
            await self._remember([ChatTurn("assistant", heard_text)])
        log.info("turn %s interrupted (%s): heard %d samples", reply.turn_id, reason, heard)
        await self._sink.emit(self.audio_ms, turn_interrupted=pb.TurnInterrupted(
            turn_id=reply.turn_id, heard_text=heard_text, samples_heard=heard,
            metrics=self._metrics(reply, "interrupted")))

    def _metrics(self, reply: ReplyTurn, outcome: str) -> pb.TurnMetrics:
        """The turn's latency breakdown; also written as a trace (when tracing is on)."""
        t = reply.timings
        first_sent, last_sent = self._player.first_sent.get(reply.turn_id), self._player.last_sent.get(reply.turn_id)
        metrics = reply.clock.metrics(t.first_token, t.first_clause, t.first_audio, first_sent, last_sent)
        record_turn(reply, self.snapshot.session_id, reply.cause, reply.prompt, outcome, metrics,
                    first_sent, last_sent)
        return metrics

    async def _remember(self, turns: list[ChatTurn]) -> None:
        self._history += turns
        await self._store.append_history(self.snapshot.session_id, turns)

    async def _send_audio(self, turn_id: str, data: bytes, start_sample: int) -> None:
        await self._sink.emit(self.audio_ms, reply_audio=pb.ReplyAudio(turn_id=turn_id, data=data,
                                                                        start_sample=start_sample))

    # ------------------------------------------------------------ end of input

    async def _finish_input(self) -> None:
        """The caller sent end_of_input: answer a pending turn, let the reply finish, then stop."""
        if self._caller.open and not self._covers_turn():
            self._in_speech = False  # no more audio: the turn's speech has ended
            self._caller.speech_ended(self._caller.end)
            self._request_asr()
        while self._asr_busy() or not self._inbox.empty():
            await self._handle(*await self._inbox.get())
        if self._caller.open and self._transcript and self._reply is None:
            decision = pb.Decision(action=pb.ACTION_RESPOND, reason="end of input", confidence=1.0)
            await self._act(decider_pb2.DecideResponse(decision=decision), decider_pb2.Observation())
        while self._reply is not None:
            await self._handle(*await self._inbox.get())

    def _asr_busy(self) -> bool:
        return self._asr_wanted or (self._asr_task is not None and not self._asr_task.done())
