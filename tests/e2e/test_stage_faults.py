"""A live call rides out a stage process crashing and being restarted (as compose's restart policy
or Kubernetes would): real light-profile stage processes, the encoder or the decider SIGKILLed
just as the caller starts to speak, a new process on its port seconds later. The gateway sends
each per-chunk call again until the stage answers (services/gateway/stage_retry.py); the caller's
audio waits in the session's inbox meanwhile. Both questions are heard and answered, every event
arrives once and in order, and the call ends normally."""
from __future__ import annotations

import asyncio
import tempfile
import time

import pytest

from soundloop.client import CallerScript, converse
from soundloop.local_stack import local_stack
from soundloop.v1 import audio_pb2, interaction_pb2 as pb
from tests.support.audio import RATE, join, silence, speak

pytestmark = pytest.mark.e2e

PCM16K = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)


@pytest.fixture(scope="module")
def faulty_stack(redis_url):
    with tempfile.TemporaryDirectory(prefix="soundloop-faults-logs-") as logs, \
            local_stack("light", redis_url, log_dir=logs) as stack:
        yield stack


@pytest.mark.parametrize("stage", ["encoder", "decider"])
async def test_a_stage_crash_mid_call_loses_nothing(faulty_stack, stage):
    audio = join(silence(0.4), speak("What color is the sky?"), silence(7.0), speak("What is the capital of France?"),
                 silence(0.3))
    script = CallerScript(audio, RATE, tail_s=20.0, stop_after_turns=2)

    async def crash():
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await asyncio.to_thread(faulty_stack.crash_and_restart, stage, 0.5)
        return time.monotonic() - started

    crashing = asyncio.create_task(crash())
    record = await converse(faulty_stack.gateway_address, pb.SessionConfig(input_audio=PCM16K), script)
    down_s = await crashing

    sequences = [e.event.sequence for e in record.events]
    assert sequences == list(range(1, len(sequences) + 1))
    assert not record.of("error"), [e.event.error for e in record.of("error")]
    finals = " ".join(record.final_transcripts()).lower()
    assert "sky" in finals and "france" in finals, finals
    # Each question's reply ends answered, or interrupted when the caller's next question came while the
    # first reply, late by the outage, was still playing (a barge-in); the last one is answered.
    ended = [e for e in record.events if e.kind in ("turn_completed", "turn_interrupted")]
    assert len(ended) == 2 and ended[-1].kind == "turn_completed", [e.kind for e in ended]
    print(f"\n{stage} SIGKILLed and restarted ({down_s:.1f} s down): {len(sequences)} events in order, "
          f"no error, both questions answered")


@pytest.mark.parametrize("stage,first_event", [("llm", "reply_text"), ("tts", "reply_audio")])
async def test_a_reply_stage_crash_mid_reply_ends_that_reply_and_the_call_goes_on(faulty_stack, stage, first_event):
    """The LLM or TTS process SIGKILLed as the first reply starts (its first text or audio reached
    the caller): that reply ends with an UNAVAILABLE error event and a turn_completed holding only
    what the caller heard, which is all the history keeps; the restarted stage answers the next question."""
    audio = join(silence(0.4), speak("Tell me a long story about a brave knight and a dragon."), silence(9.0),
                 speak("What is the capital of France?"), silence(0.3))
    script = CallerScript(audio, RATE, tail_s=25.0, stop_after_turns=2)
    crashing: list[asyncio.Task] = []

    def crash_on_first(received) -> None:
        if received.kind == first_event and not crashing:
            crashing.append(asyncio.get_running_loop().create_task(
                asyncio.to_thread(faulty_stack.crash_and_restart, stage, 0.5)))

    record = await converse(faulty_stack.gateway_address, pb.SessionConfig(input_audio=PCM16K), script,
                            on_event=crash_on_first)
    assert crashing, "no reply started"
    await crashing[0]

    sequences = [e.event.sequence for e in record.events]
    assert sequences == list(range(1, len(sequences) + 1))
    errors = [e.event.error for e in record.of("error")]
    assert errors and all(e.code == "UNAVAILABLE" and "failed" in e.message for e in errors), errors
    ended = [e.event for e in record.events if e.kind in ("turn_completed", "turn_interrupted")]
    assert len(ended) == 2 and ended[-1].WhichOneof("event") == "turn_completed", ended
    first = ended[0].turn_completed if ended[0].HasField("turn_completed") else ended[0].turn_interrupted
    turn = first.turn_id
    streamed = "".join(e.event.reply_text.delta for e in record.of("reply_text") if e.event.reply_text.turn_id == turn)
    kept = first.text if ended[0].HasField("turn_completed") else first.heard_text
    assert streamed.split()[:len(kept.split())] == kept.split(), (kept, streamed)  # what was heard, no more
    assert "france" in " ".join(record.final_transcripts()).lower()
    assert ended[-1].turn_completed.text.strip()  # the restarted stage answered
    print(f"\n{stage} SIGKILLed at the first {first_event}: {len(errors)} error event(s) {errors[0].code}; "
          f"kept {len(kept.split())} of {len(streamed.split())} streamed words; the next question answered")
