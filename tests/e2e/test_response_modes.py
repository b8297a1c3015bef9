"""Response modes through the public API, light profile, real models: the mode decides what is answered,
whatever the LLM would have said."""
from __future__ import annotations

import pytest

from soundloop.client import CallerScript, converse
from soundloop.v1 import audio_pb2, interaction_pb2 as pb
from tests.support.audio import RATE, join, silence, speak

pytestmark = pytest.mark.e2e

PCM16K = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)


async def test_spoken_transcribe_only_gets_transcripts_and_no_reply(gateway):
    audio = join(silence(0.5), speak("Just transcribe from now on."), silence(1.5),
                 speak("The birch canoe slid on the smooth planks."), silence(0.3))
    record = await converse(gateway, pb.SessionConfig(input_audio=PCM16K), CallerScript(audio, RATE, tail_s=4))

    changed = [e.event.mode_changed for e in record.of("mode_changed")]
    assert [c.response.mode for c in changed] == [pb.RESPONSE_MODE_TRANSCRIBE_ONLY], record.final_transcripts()
    finals = record.final_transcripts()
    assert len(finals) == 2 and "canoe" in finals[1].lower(), finals
    assert record.of("turn_started") == [] and not record.reply_audio


async def test_quiet_until_addressed_by_name(gateway):
    audio = join(silence(0.5), speak("I need eggs, milk and bread."), silence(2.5),
                 speak("Computer, what do I need?"), silence(0.3))
    config = pb.SessionConfig(input_audio=PCM16K, response=pb.ResponsePolicy(
        mode=pb.RESPONSE_MODE_QUIET_UNTIL_ADDRESSED, wake_phrases=["computer"]))
    record = await converse(gateway, config, CallerScript(audio, RATE, tail_s=10, stop_after_turns=1))

    started = [e.event.turn_started for e in record.of("turn_started")]
    assert len(started) == 1 and "computer" in started[0].prompt.lower(), record.final_transcripts()
    # Nothing was said over the statement: the only reply starts after the name was spoken.
    assert record.of("turn_started")[0].event.audio_offset.ToMilliseconds() / 1000 > 0.5 + 2.0 + 2.5
    assert record.reply_audio
    actions = record.actions()
    assert pb.ACTION_NO_REPLY in actions, actions
