"""The encoder's per-stream state and its compact binary form (the opaque `stream_state`).

Layout, little-endian, version 1:
  header   B version | B encoding | B flags (bit 0: in speech) | I sample rate | Q input samples
  activity I run frames | Q run start | Q since            (16 kHz sample indices)
  lengths  H resampler history | H VAD remainder | H mel tail | H mel frames
  arrays   f32 VAD recurrent [2*1*128] | f32 VAD context [64] | f32 history | f32 remainder
           | f32 mel tail | u8 mel frames [n, 64]
  trailer  I crc32 of everything before it
About 11 KB at most; (de)serializing costs a few microseconds.
"""
from __future__ import annotations

import dataclasses
import struct
import zlib

import numpy as np

from services.encoder import log_mel, resampler, sound_events, voice_activity
from services.encoder.errors import InvalidStreamState
from soundloop.audio.codec import Format

VERSION = 1
_HEADER = struct.Struct("<BBBIQ")
_ACTIVITY = struct.Struct("<IQQ")
_LENGTHS = struct.Struct("<HHHH")
_CRC = struct.Struct("<I")
_FIXED = _HEADER.size + _ACTIVITY.size + _LENGTHS.size + _CRC.size
_RECURRENT = int(np.prod(voice_activity.STATE_SHAPE))
_F32 = np.dtype("<f4")


@dataclasses.dataclass
class EncoderStream:
    format: Format
    # Caller samples consumed so far, at the caller's rate.
    input_samples: int
    history: np.ndarray  # resampler input history
    vad: voice_activity.VadStream
    sound: sound_events.SoundStream

    @classmethod
    def start(cls, fmt: Format) -> EncoderStream:
        history = np.zeros(resampler.design(fmt.sample_rate_hz).history, np.float32)
        return cls(fmt, 0, history, voice_activity.VadStream(), sound_events.SoundStream())

    @property
    def output_samples(self) -> int:
        """16 kHz samples emitted so far: the stream index of the next one."""
        return resampler.design(self.format.sample_rate_hz).outputs_after(self.input_samples)


def pack(s: EncoderStream) -> bytes:
    a = s.vad.activity
    parts = [
        _HEADER.pack(VERSION, s.format.encoding, int(a.in_speech), s.format.sample_rate_hz, s.input_samples),
        _ACTIVITY.pack(a.run_frames, a.run_start, a.since),
        _LENGTHS.pack(s.history.size, s.vad.remainder.size, s.sound.tail.size, len(s.sound.frames)),
        *(x.astype(_F32, copy=False).tobytes() for x in (
            s.vad.recurrent, s.vad.context, s.history, s.vad.remainder, s.sound.tail)),
        s.sound.frames.astype(np.uint8, copy=False).tobytes(),
    ]
    body = b"".join(parts)
    return body + _CRC.pack(zlib.crc32(body))


def unpack(data: bytes, fmt: Format) -> EncoderStream:
    """Parses `stream_state` for a chunk in `fmt`; empty data starts a new stream."""
    if not data:
        return EncoderStream.start(fmt)
    if data[0] != VERSION:
        raise InvalidStreamState(
            f"stream_state has format version {data[0]}, this encoder reads version {VERSION}; "
            "start the stream again with an empty stream_state")
    if len(data) < _FIXED or zlib.crc32(data[:-_CRC.size]) != _CRC.unpack_from(data, len(data) - _CRC.size)[0]:
        raise InvalidStreamState("stream_state is corrupt (checksum mismatch); pass back the bytes of the "
                                 "previous AnalyzeChunkResponse unchanged, or empty to start a new stream")
    _, encoding, flags, rate, n_in = _HEADER.unpack_from(data, 0)
    state_fmt = Format(encoding, rate)
    if state_fmt != fmt:
        raise InvalidStreamState(f"stream_state belongs to a {state_fmt.describe()} stream but this chunk is "
                                 f"{fmt.describe()}; the audio format cannot change within a stream")
    run_frames, run_start, since = _ACTIVITY.unpack_from(data, _HEADER.size)
    n_hist, n_rem, n_tail, n_frames = _LENGTHS.unpack_from(data, _HEADER.size + _ACTIVITY.size)
    offset = _HEADER.size + _ACTIVITY.size + _LENGTHS.size
    sizes = (_RECURRENT, voice_activity.CONTEXT, n_hist, n_rem, n_tail)
    if len(data) != _FIXED + 4 * sum(sizes) + n_frames * log_mel.BANDS:
        raise InvalidStreamState("stream_state has an inconsistent length")
    floats = np.frombuffer(data, _F32, sum(sizes), offset).astype(np.float32)
    recurrent, context, history, remainder, tail = np.split(floats, np.cumsum(sizes)[:-1])
    frames = np.frombuffer(data, np.uint8, n_frames * log_mel.BANDS, offset + 4 * sum(sizes))
    stream = EncoderStream(
        fmt, n_in, history,
        voice_activity.VadStream(recurrent.reshape(voice_activity.STATE_SHAPE), context, remainder,
                                 voice_activity.Activity(bool(flags & 1), run_frames, run_start, since)),
        sound_events.SoundStream(tail, frames.reshape(n_frames, log_mel.BANDS)))
    _check_consistent(stream)
    return stream


def _check_consistent(s: EncoderStream) -> None:
    """Guards the invariants the processing code relies on (a valid checksum over wrong content)."""
    n_out = s.output_samples
    vad_done, mel_next = n_out - s.vad.remainder.size, n_out - s.sound.tail.size
    ok = (s.history.size == resampler.design(s.format.sample_rate_hz).history
          and s.vad.remainder.size < voice_activity.FRAME and vad_done >= 0 and vad_done % voice_activity.FRAME == 0
          and s.sound.tail.size < log_mel.WINDOW and mel_next >= 0 and mel_next % log_mel.HOP == 0
          and len(s.sound.frames) == min(sound_events.PATCH - 1, mel_next // log_mel.HOP))
    if not ok:
        raise InvalidStreamState("stream_state is inconsistent with its own counters; start a new stream")
