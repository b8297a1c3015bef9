"""Gateway failover: two gateway processes on the same stages and Redis, a caller mid-reply on one,
that one SIGKILLed. The caller resumes on the other with its token and the last sequence number it
saw: it is back within 3 s, the numbers go on with no gap and no repeat, the reply that was being
spoken is marked interrupted, and the session goes on (the next question is answered)."""
from __future__ import annotations

import asyncio
import tempfile
import time

import grpc
import numpy as np
import pytest

from soundloop.audio import codec
from soundloop.client import channel
from soundloop.local_stack import local_stack
from soundloop.v1 import audio_pb2, interaction_pb2 as pb, interaction_pb2_grpc
from tests.support.audio import join, silence, speak

pytestmark = pytest.mark.e2e

PCM16K = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)
FORMAT = codec.Format.from_proto(PCM16K)
FRAME = 320  # 20 ms at 16 kHz


@pytest.fixture(scope="module")
def two_gateways(redis_url):
    with tempfile.TemporaryDirectory(prefix="soundloop-failover-logs-") as logs, \
            local_stack("light", redis_url, log_dir=logs) as stack:
        yield stack, stack.start_another_gateway()


async def _stream(call, audio: np.ndarray) -> None:
    """Sends `audio` in 20 ms frames at real-time pace, then keeps the line open with silence."""
    started = time.monotonic()
    frames = [audio[i:i + FRAME] for i in range(0, len(audio), FRAME)]
    for i, frame in enumerate([*frames, *[np.zeros(FRAME, np.float32)] * 1500]):
        await asyncio.sleep(max(0.0, started + i * 0.02 - time.monotonic()))
        await call.write(pb.ConverseRequest(audio=pb.AudioChunk(data=codec.encode(FORMAT, frame))))


async def test_callers_resume_on_the_other_gateway_with_nothing_lost(two_gateways):
    stack, second = two_gateways
    first_call = interaction_pb2_grpc.InteractionStub(channel(stack.gateway_address)).Converse()
    await first_call.write(pb.ConverseRequest(config=pb.SessionConfig(input_audio=PCM16K)))
    sender = asyncio.create_task(_stream(first_call, join(silence(0.4), speak("Tell me a long story about a dragon."))))
    seen: list[pb.ConverseResponse] = []
    with pytest.raises(grpc.aio.AioRpcError):
        async for event in first_call:
            seen.append(event)
            if event.WhichOneof("event") == "reply_audio":
                stack.processes["gateway"].kill()  # mid-reply: the first gateway is gone
                killed_at = time.monotonic()
    sender.cancel()
    started = next(e.session_started for e in seen if e.WhichOneof("event") == "session_started")
    reply_turn = next(e.reply_audio.turn_id for e in seen if e.WhichOneof("event") == "reply_audio")
    last_seen = seen[-1].sequence

    resumed_call = interaction_pb2_grpc.InteractionStub(channel(second)).Converse()
    await resumed_call.write(pb.ConverseRequest(config=pb.SessionConfig(
        resume_token=started.resume_token, replay_after_sequence=last_seen, input_audio=PCM16K)))
    sender = asyncio.create_task(_stream(resumed_call, join(silence(0.5), speak("What color is the sky?"))))
    after: list[pb.ConverseResponse] = []
    back_in_s = None
    async for event in resumed_call:
        after.append(event)
        if back_in_s is None and event.WhichOneof("event") == "session_started":
            back_in_s = time.monotonic() - killed_at
        if event.WhichOneof("event") == "turn_completed":
            break
    sender.cancel()
    resumed_call.cancel()

    sequences = [e.sequence for e in after]
    assert sequences == list(range(last_seen + 1, last_seen + 1 + len(sequences)))  # no gap, no repeat
    kinds = [e.WhichOneof("event") for e in after]
    resumed = next(e.session_started for e in after if e.WhichOneof("event") == "session_started")
    assert resumed.resumed and resumed.session_id == started.session_id
    assert back_in_s < 3.0, back_in_s
    interrupted = [e.turn_interrupted.turn_id for e in after if e.WhichOneof("event") == "turn_interrupted"]
    assert reply_turn in interrupted  # the reply the dead gateway was speaking is over, and said so
    assert "turn_completed" in kinds and "error" not in kinds
    finals = [e.transcript.text.lower() for e in after
              if e.WhichOneof("event") == "transcript" and e.transcript.is_final]
    assert any("sky" in text for text in finals), finals
    print(f"\nfailover: back on the other gateway {back_in_s:.2f} s after the kill; {len(seen)} events before, "
          f"{len(after)} after, numbers {seen[0].sequence}..{sequences[-1]} without gap or repeat")
