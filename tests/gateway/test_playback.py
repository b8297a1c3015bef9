"""ReplyPlayer on a virtual clock: pacing, pause/resume (backchannel) and flush (barge-in)."""
import asyncio

import pytest

from services.gateway.playback import ReplyPlayer

pytestmark = pytest.mark.unit

RATE = 16000
PIECE = b"\x00\x00" * 1600  # 100 ms of PCM16 at 16 kHz


class VirtualClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def make_player(lead_ms=200):
    clock = VirtualClock()
    sent = []

    async def send(turn_id, data, start):
        sent.append((clock.now, turn_id, start, len(data)))

    player = ReplyPlayer(send, 2, RATE, lead_ms, clock=clock, sleep=clock.sleep)
    return player, clock, sent


async def settle():
    for _ in range(50):
        await asyncio.sleep(0)


async def test_audio_leaves_at_real_time_with_the_lead():
    player, clock, sent = make_player(lead_ms=200)
    player.start()
    for _ in range(10):
        player.enqueue("t1", PIECE)
    await asyncio.wait_for(player.drained("t1"), 5)
    await player.stop()
    times = [round(t, 3) for t, *_ in sent]
    # 200 ms lead: three pieces go at once (0, 100, 200 ms of audio ahead), then one per 100 ms.
    assert times[:3] == [0.0, 0.0, 0.0]
    assert times[3:] == pytest.approx([0.1 * i for i in range(1, 8)], abs=1e-6)
    assert [start for _, _, start, _ in sent] == [1600 * i for i in range(10)]


async def test_pause_holds_audio_and_resume_sends_it_all():
    player, clock, sent = make_player(lead_ms=10_000)
    player.start()
    player.pause()
    for _ in range(3):
        player.enqueue("t1", PIECE)
    await settle()
    assert sent == []
    player.resume()
    await asyncio.wait_for(player.drained("t1"), 5)
    await player.stop()
    assert len(sent) == 3


async def test_flush_drops_unsent_audio_and_reports_what_was_sent():
    player, clock, sent = make_player(lead_ms=10_000)
    player.start()
    player.enqueue("t1", PIECE)
    await settle()
    player.pause()
    player.enqueue("t1", PIECE)
    player.enqueue("t1", PIECE)
    await settle()
    assert player.flush("t1") == 1600
    player.enqueue("t2", PIECE)
    await asyncio.wait_for(player.drained("t2"), 5)
    await player.stop()
    assert [turn for _, turn, _, _ in sent] == ["t1", "t2"]
