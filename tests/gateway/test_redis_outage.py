"""Live calls ride out Redis outages: a real gateway on loopback (scripted stages), a real
redis-server that the test pauses, restarts empty or stops, and a caller on the public gRPC API.

- 2 s of Redis not answering (DEBUG SLEEP) or a restart that loses every key: the call goes on,
  every event arrives once and in order, both questions are answered, and the session resumes
  afterwards with its whole history;
- Redis gone for longer than the store's outage limit: the call ends UNAVAILABLE with a message
  of ours (no driver text, no address), soon after the limit, not ABORTED and not hanging."""
from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time

import grpc
import numpy as np
import pytest
import redis

from services.gateway import conversation
from services.gateway.server import start_gateway
from services.gateway.session_store import SessionStore
from soundloop.client import CallerScript, converse
from soundloop.local_redis import free_port
from soundloop.settings import SessionSettings, Settings
from soundloop.v1 import audio_pb2, interaction_pb2 as pb

from .scripted_stages import Said, ScriptedStages

pytestmark = pytest.mark.integration

PCM16K = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)
FIRST, SECOND = Said(0.5, 1.5, "What time is it?"), Said(4.5, 5.5, "And the weather?")
EOT = {FIRST.text: 0.95, SECOND.text: 0.95}


@contextlib.contextmanager
def redis_on(port: int):
    proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--enable-debug-command", "local"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        client = redis.Redis(port=port)
        for _ in range(100):
            with contextlib.suppress(redis.ConnectionError):
                client.ping()
                break
            time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


async def _call(address: str, seconds: float, token: str = "") -> object:
    """The caller speaks the script's two questions (the scripted encoder hears them by position)."""
    config = pb.SessionConfig(input_audio=PCM16K, resume_token=token)
    script = CallerScript(np.zeros(int(seconds * 16000), np.float32), 16000, tail_s=4.0, stop_after_turns=2)
    return await converse(address, config, script)


async def _with_gateway(port: int, outage_s: float, body):
    settings = Settings(redis_url=f"redis://127.0.0.1:{port}/0",
                        session=SessionSettings(redis_timeout_s=0.5, store_outage_s=outage_s))
    gateway = await start_gateway(settings, ScriptedStages([FIRST, SECOND], EOT, reply="It is noon."),
                                  "127.0.0.1:0")
    try:
        return await body(f"127.0.0.1:{gateway.port}")
    finally:
        await gateway.stop(grace_s=0)


def _assert_whole_call(record) -> None:
    sequences = [e.event.sequence for e in record.events]
    assert sequences == list(range(1, len(sequences) + 1)), sequences  # none lost, none twice
    assert not record.of("error"), [e.event.error for e in record.of("error")]
    assert len(record.of("turn_completed")) == 2


async def _history(port: int, token: str) -> list[str]:
    store = SessionStore.from_url(f"redis://127.0.0.1:{port}/0")
    try:
        return [t.content for t in (await store.load(token)).history]
    finally:
        await store.close()


@pytest.mark.parametrize("outage", ["debug_sleep", "restart_empty"])
def test_a_two_second_outage_drops_no_call_and_loses_no_session(outage):
    port = free_port()

    async def body(address: str):
        async def cut_redis():
            await asyncio.sleep(2.0)  # after the first question, while it is answered
            if outage == "debug_sleep":  # Redis stops answering for 2 s; the gateway's commands time out
                await asyncio.to_thread(redis.Redis(port=port).execute_command, "DEBUG", "SLEEP", "2")
            else:  # Redis restarts without persistence: every key of the session is gone
                holder["proc"].terminate()
                holder["proc"].wait(10)
                await asyncio.sleep(2.0)
                holder["restarted"] = stack.enter_context(redis_on(port))
            return time.monotonic()

        async def watch_backlog():  # the gateway runs in this process: read how far behind it is
            while True:
                backlogs.append((time.monotonic(), max((c.audio_backlog_s for c in list(conversation._OPEN)),
                                                       default=0.0)))
                await asyncio.sleep(0.05)

        backlogs: list[tuple[float, float]] = []
        watching = asyncio.create_task(watch_backlog())
        cutting = asyncio.create_task(cut_redis())
        record = await _call(address, 7.0)
        outage_over = await cutting
        watching.cancel()
        _assert_whole_call(record)
        # The audio that queued while Redis did not answer is worked off within a second.
        assert max(backlog for at, backlog in backlogs if at > outage_over + 1.0) < 0.25, backlogs
        drained = next((at for at, backlog in backlogs if at > outage_over and backlog < 0.15), outage_over)
        print(f"\n{outage}: {len(record.events)} events in order, none lost, "
              f"{len(record.of('turn_completed'))} turns answered; audio backlog at most "
              f"{max(b for _, b in backlogs):.1f} s, back under 0.15 s {max(0.0, drained - outage_over):.2f} s "
              f"after Redis answered")
        assert await _history(port, record.resume_token) == [FIRST.text, "It is noon.", SECOND.text, "It is noon."]
        resumed = await _call(address, 0.5, token=record.resume_token)
        started = resumed.of("session_started")[-1].event.session_started  # after the replayed ones
        assert started.resumed and started.session_id == record.session_id

    holder: dict = {}
    with contextlib.ExitStack() as stack:
        holder["proc"] = stack.enter_context(redis_on(port))
        asyncio.run(_with_gateway(port, outage_s=10.0, body=body))


def test_a_long_outage_ends_the_call_unavailable_soon_after_the_limit():
    port = free_port()

    async def body(address: str):
        async def stop_redis():
            await asyncio.sleep(2.0)
            proc.terminate()
            proc.wait(10)
            return time.monotonic()

        stopping = asyncio.create_task(stop_redis())
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await _call(address, 20.0)
        stopped_at = await stopping
        return ended.value, time.monotonic() - stopped_at

    with redis_on(port) as proc:
        error, after_s = asyncio.run(_with_gateway(port, outage_s=2.0, body=body))
    assert error.code() == grpc.StatusCode.UNAVAILABLE, (error.code(), error.details())
    assert "session store" in error.details() and "resume" in error.details()
    assert "Errno" not in error.details() and "127.0.0.1" not in error.details()
    assert after_s < 2.0 + 3.0  # the limit, plus a chunk's save timing out and the stream closing
    print(f"\nRedis stopped for good: UNAVAILABLE {after_s:.1f} s after it stopped (limit 2 s): {error.details()}")
