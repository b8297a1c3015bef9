"""TtsStage with real engines: formats, voices, bad requests, cancellation, a free event loop."""
import asyncio
import contextlib
import time

import pytest
from tts_speech import GREETING, PCM16K, child_processes, engine_audio, request, rms, speak

from services.tts.stage import MAX_TEXT_CHARS
from services.tts.voice_catalog import VoiceCatalog
from soundloop.audio import codec
from soundloop.errors import InvalidRequest
from soundloop.v1 import audio_pb2

pytestmark = pytest.mark.integration

FORMATS = [codec.Format(codec.PCM16, rate) for rate in codec.PCM_RATES] + [
    codec.Format(codec.MULAW, 8000), codec.Format(codec.ALAW, 8000)]
LONG_TEXT = "This sentence goes on and on, for quite a while. " * 30


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.describe())
async def test_every_format_has_the_byte_count_of_the_engine_audio(tts_stage, espeak_engine, fmt):
    native, rate = engine_audio(espeak_engine, GREETING)  # espeak-ng is deterministic
    pieces, _ = await speak(tts_stage, GREETING, "espeak-ng:en-us", fmt)
    total = sum(len(p) for p in pieces)
    assert total % fmt.bytes_per_sample == 0
    assert abs(total / fmt.bytes_per_sample - native.size * fmt.sample_rate_hz / rate) <= 2
    assert all(len(p) == fmt.byte_count(60) for p in pieces[:-1])  # 60 ms pieces, to pace and count
    audio = codec.decode(fmt, b"".join(pieces))
    assert abs(rms(audio) - rms(native)) < 0.15 * rms(native)


async def test_g711_rate_may_be_left_unset(tts_stage):
    fmt = codec.Format(codec.MULAW, 0)
    pieces, _ = await speak(tts_stage, "Hi there.", fmt=fmt)
    assert len(pieces[0]) == 480  # 60 ms at 8 kHz, one byte per sample


@pytest.mark.parametrize("voice, engine_name, voice_name", [
    ("", "espeak-ng", "en-us"),
    ("espeak-ng:en-gb", "espeak-ng", "en-gb"),
    ("flite:slt", "flite", "slt"),
    ("slt", "flite", "slt"),  # a bare voice is found in whichever engine has it
    ("flite", "flite", "slt"),  # an engine alone: its default voice
    ("piper:en_US-joe-medium", "piper", "en_US-joe-medium"),
    ("piper", "piper", "en_US-joe-medium"),
])
def test_voice_names(tts_stage, voice, engine_name, voice_name):
    engine, name = tts_stage.catalog.resolve(voice)
    assert (engine.name, name) == (engine_name, voice_name)


async def test_each_engine_speaks_through_the_stage(tts_stage):
    durations = {}
    for voice in ("espeak-ng", "flite:kal", "piper"):
        pieces, first = await speak(tts_stage, GREETING, voice, codec.Format(codec.PCM16, 24000))
        durations[voice] = sum(len(p) for p in pieces) / 2 / 24000
        assert first < 2.0
    assert all(0.5 < d < 4 for d in durations.values()), durations
    assert len(set(durations.values())) == 3  # three different voices


def test_catalog_defaults_and_unloaded_engines(espeak_engine, flite_engine):
    catalog = VoiceCatalog({"espeak-ng": espeak_engine, "flite": flite_engine}, "flite", "rms")
    assert catalog.resolve("")[1] == "rms"
    with pytest.raises(InvalidRequest, match="unknown voice 'piper'.*valid voices: espeak-ng:en-gb"):
        catalog.resolve("piper")
    with pytest.raises(InvalidRequest, match="flite:slt"):
        catalog.resolve("flite:nope")
    with pytest.raises(ValueError, match="unknown voice 'nobody'"):
        VoiceCatalog({"flite": flite_engine}, "flite", "nobody")


@pytest.mark.parametrize("req, message", [
    (request(""), "text is empty"),
    (request(" \n\t "), "text is empty"),
    (request("a" * (MAX_TEXT_CHARS + 1)), "at most 2000"),
    (request("Hello.", voice="klingon"), "unknown voice 'klingon'; valid voices: espeak-ng:en-gb, .*flite:slt"),
    (request("Hello.", voice="piper:someone"), "unknown voice"),
    (request("Hello.", fmt=codec.Format(codec.PCM16, 44100)), "sample_rate_hz must be one of"),
    (request("Hello.", fmt=codec.Format(codec.MULAW, 16000)), "G.711 audio must be 8000 Hz"),
    (request("Hello.", fmt=codec.Format(audio_pb2.AUDIO_ENCODING_UNSPECIFIED, 16000)), "encoding must be"),
])
async def test_bad_requests_are_value_errors(tts_stage, req, message):
    with pytest.raises(ValueError, match=message):
        async for _ in tts_stage.synthesize(req):
            pass


async def test_output_format_is_required(tts_stage):
    req = request("Hello.")
    req.ClearField("output_format")
    with pytest.raises(codec.AudioFormatError, match="output_format is required"):
        await anext(tts_stage.synthesize(req))


async def test_markup_is_not_read_out_and_emoji_alone_is_silence(tts_stage):
    plain, _ = await speak(tts_stage, "Here is one idea.")
    marked, _ = await speak(tts_stage, "**Here** is _one_ idea. 😀")
    assert sum(map(len, marked)) == sum(map(len, plain))
    assert (await speak(tts_stage, "😀 🎉"))[0] == []


async def test_closing_the_stream_kills_a_subprocess_engine(tts_stage):
    stream = tts_stage.synthesize(request(LONG_TEXT, "espeak-ng"))
    assert (await anext(stream)).audio
    assert child_processes("espeak-ng")
    await stream.aclose()
    assert child_processes("espeak-ng") == []


async def test_closing_the_stream_stops_piper_early(tts_stage):
    start = time.perf_counter()
    stream = tts_stage.synthesize(request(LONG_TEXT, "piper"))  # ~30 sentences, several seconds of work
    assert (await anext(stream)).audio
    await stream.aclose()
    # The lock is free again at once: the rest of the text was never synthesized.
    pieces, _ = await speak(tts_stage, "Yes.", "piper")
    assert pieces and time.perf_counter() - start < 2.5


async def test_cancelling_the_consumer_task_stops_synthesis(tts_stage):
    async def consume():
        async with contextlib.aclosing(tts_stage.synthesize(request(LONG_TEXT, "espeak-ng"))) as stream:
            async for _ in stream:
                await asyncio.sleep(0.01)  # a slow reader: espeak-ng waits on a full pipe

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.2)
    assert child_processes("espeak-ng")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert child_processes("espeak-ng") == []


async def test_event_loop_stays_free_while_piper_computes(tts_stage):
    gaps, running = [], True

    async def ticker():
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    pieces, _ = await speak(tts_stage, "The weather tomorrow looks sunny in the morning, with light rain later.",
                            "piper")
    running = False
    await tick
    assert pieces and len(gaps) > 10
    assert max(gaps) < 0.1  # a blocked loop would stall for the whole inference (~0.3 s or more)


async def test_concurrent_calls_all_complete(tts_stage):
    texts = [("First caller here.", "piper"), ("Second caller here.", "espeak-ng"), ("Third one.", "flite")]
    results = await asyncio.gather(*(speak(tts_stage, text, voice) for text, voice in texts))
    assert all(pieces and rms(codec.decode(PCM16K, b"".join(pieces))) > 0.02 for pieces, _ in results)
