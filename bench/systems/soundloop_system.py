"""soundloop as the system under test: every scenario is one call through the public
gRPC API, streamed in 20 ms frames at real-time pace (16 kHz PCM or 8 kHz G.711
mu-law), exactly as a caller's client would.
"""
from __future__ import annotations

import asyncio

import grpc
import numpy as np

from bench.outcome import Outcome, ReplyTurn, playback_stall_s
from bench.scenarios import Scenario
from bench.sources import RATE
from soundloop.audio import codec
from soundloop.client import CallerScript, ConversationRecord, channel, converse
from soundloop.v1 import audio_pb2, interaction_pb2 as pb, interaction_pb2_grpc

PCM16K = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)
MULAW8K = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_MULAW, sample_rate_hz=8000)
CAUSES = {pb.TURN_CAUSE_SPEECH: "speech", pb.TURN_CAUSE_TEXT: "text", pb.TURN_CAUSE_SOUND: "sound",
          pb.TURN_CAUSE_UNCLEAR_SPEECH: "unclear_speech", pb.TURN_CAUSE_INSTRUCTION: "instruction"}
STAGE_FIELDS = ("voice_to_voice", "end_of_speech_to_decision", "recognition", "llm_first_token",
                "tts_first_audio", "decision_to_first_audio", "barge_in_stop")


def audio_format(scenario: Scenario) -> audio_pb2.AudioFormat:
    return MULAW8K if scenario.telephony else PCM16K


def session_config(scenario: Scenario, turn_model: int = pb.TURN_MODEL_UNSPECIFIED) -> pb.SessionConfig:
    """`turn_model`: the session's TurnDetection.model (unspecified: the server's default)."""
    config = pb.SessionConfig(input_audio=audio_format(scenario), instructions=scenario.instructions)
    if turn_model:
        config.turn_detection.model = turn_model
    return config


def script(scenario: Scenario) -> CallerScript:
    return CallerScript(scenario.audio, RATE, texts=[(float(t), text) for t, text in scenario.texts],
                        tail_s=scenario.tail_s, stop_after_turns=scenario.stop_after_turns,
                        barge_in=scenario.overlay, barge_in_delay_s=scenario.overlay_delay_s,
                        stop_after_replies=scenario.stop_after_replies, linger_s=scenario.linger_s,
                        hang_up_after_barge_in_s=scenario.hang_up_after_overlay_s)


async def run(address: str, scenario: Scenario, turn_model: int = pb.TURN_MODEL_UNSPECIFIED) -> Outcome:
    if scenario.category == "offline":
        return await _offline(address, scenario)
    try:
        record = await converse(address, session_config(scenario, turn_model), script(scenario))
    except grpc.aio.AioRpcError as e:
        return Outcome(scenario.id, "soundloop", error=f"{e.code().name}: {e.details()}")
    return outcome_of(scenario.id, record)


def outcome_of(scenario_id: str, record: ConversationRecord) -> Outcome:
    turns: dict[str, ReplyTurn] = {}
    started = {e.event.turn_started.turn_id: e.event.turn_started for e in record.of("turn_started")}
    pieces: dict[str, list[tuple[float, float]]] = {}  # (arrival, seconds) of each turn's audio
    out = codec.Format.from_proto(record.output_format) if record.output_format else None
    for e in record.of("reply_audio"):
        audio = e.event.reply_audio
        turn = turns.setdefault(audio.turn_id, ReplyTurn(e.at, e.at))
        turn.last_audio_s = e.at
        if out is not None:
            pieces.setdefault(audio.turn_id, []).append((e.at, out.duration_ms(len(audio.data)) / 1000))
    for turn_id, heard in pieces.items():
        turns[turn_id].stall_s = playback_stall_s(heard)
    for e in record.of("reply_text"):
        if e.event.reply_text.turn_id in turns:
            turns[e.event.reply_text.turn_id].text += e.event.reply_text.delta
    for kind in ("turn_completed", "turn_interrupted"):
        for e in record.of(kind):
            ended = getattr(e.event, kind)
            if ended.turn_id in turns:
                turns[ended.turn_id].interrupted = kind == "turn_interrupted"
                turns[ended.turn_id].stages = {f: _seconds(getattr(ended.metrics, f)) for f in STAGE_FIELDS
                                               if ended.metrics.HasField(f)}
    for turn_id, turn in turns.items():
        if turn_id in started:
            turn.cause, turn.prompt = CAUSES.get(started[turn_id].cause, ""), started[turn_id].prompt
            turn.heard_sound = started[turn_id].heard_sound
    errors = [f"{e.event.error.code}: {e.event.error.message}" for e in record.of("error")]
    return Outcome(
        scenario_id, "soundloop", error="; ".join(errors) or None, transcripts=record.final_transcripts(),
        turns=sorted(turns.values(), key=lambda t: t.first_audio_s), overlay_at=record.barge_in_at,
        call_s=record.events[-1].at if record.events else 0.0, milestones=_milestones(record),
        sound_reactions=[e.event.turn_started.prompt if e.event.turn_started.cause == pb.TURN_CAUSE_SOUND
                         else e.event.turn_started.heard_sound for e in record.of("turn_started")
                         if e.event.turn_started.cause == pb.TURN_CAUSE_SOUND or e.event.turn_started.heard_sound])


def _milestones(record: ConversationRecord) -> dict[str, float]:
    """The first spoken reply's path as the client saw it: transcript -> turn -> text -> audio."""
    first = next((e for e in record.of("turn_started") if e.event.turn_started.cause == pb.TURN_CAUSE_SPEECH), None)
    if first is None:
        return {}
    turn_id = first.event.turn_started.turn_id
    out = {"respond_decision": first.at}
    finals = [e.at for e in record.of("transcript") if e.event.transcript.is_final and e.at <= first.at]
    if finals:
        out["final_transcript"] = finals[-1]
    for kind, key in (("reply_text", "first_reply_text"), ("reply_audio", "first_reply_audio")):
        hit = next((e.at for e in record.of(kind) if getattr(e.event, kind).turn_id == turn_id), None)
        if hit is not None:
            out[key] = hit
    return out


async def _offline(address: str, scenario: Scenario) -> Outcome:
    fmt = audio_format(scenario)
    data = codec.encode(codec.Format.from_proto(fmt),
                        codec.resample(scenario.audio.astype(np.float32), RATE, fmt.sample_rate_hz))
    async with channel(address) as ch:
        stub = interaction_pb2_grpc.InteractionStub(ch)
        try:
            if scenario.expect == "transcribe":
                response = await stub.Transcribe(pb.TranscribeRequest(audio_format=fmt, audio=data))
                return Outcome(scenario.id, "soundloop", transcripts=[response.text.strip()])
            response = await stub.AnswerAboutClip(pb.AnswerAboutClipRequest(audio_format=fmt, audio=data,
                                                                             instruction=scenario.question))
            return Outcome(scenario.id, "soundloop", answer=response.answer,
                           sound_reactions=[s.label for s in response.perception.sound_events])
        except grpc.aio.AioRpcError as e:
            return Outcome(scenario.id, "soundloop", error=f"{e.code().name}: {e.details()}")


def _seconds(duration) -> float:
    return duration.seconds + duration.nanos / 1e9


def run_all(address: str, scenarios: list[Scenario], on_done=None,
            turn_model: int = pb.TURN_MODEL_UNSPECIFIED) -> list[Outcome]:
    outcomes = []
    for scenario in scenarios:
        outcome = asyncio.run(run(address, scenario, turn_model))
        outcomes.append(outcome)
        if on_done:
            on_done(scenario, outcome)
    return outcomes
