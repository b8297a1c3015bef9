"""ReplyPlayer on virtual time: pacing, pause/resume (backchannel) and flush (barge-in)."""
import asyncio

import pytest

from services.gateway.playback import ReplyPlayer
from tests.support.virtual_time import run_virtual

pytestmark = pytest.mark.unit

RATE = 16000  # the reply's output rate in these tests
PIECE = b"\x00\x00" * 1600  # 100 ms of PCM16 at 16 kHz


def make_player(lead_ms=200):
    sent = []

    async def send(turn_id, data, start):
        sent.append((asyncio.get_running_loop().time(), turn_id, start, len(data)))

    return ReplyPlayer(send, 2, RATE, lead_ms), sent


async def settle():
    for _ in range(50):
        await asyncio.sleep(0)


def test_audio_leaves_at_real_time_with_the_lead():
    async def scenario():
        player, sent = make_player(lead_ms=200)
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

    run_virtual(scenario())


def test_pause_holds_audio_and_resume_sends_it_all():
    async def scenario():
        player, sent = make_player(lead_ms=10_000)
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

    run_virtual(scenario())


def test_flush_drops_unsent_audio_and_reports_what_was_sent():
    async def scenario():
        player, sent = make_player(lead_ms=10_000)
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

    run_virtual(scenario())
