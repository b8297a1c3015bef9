"""Wire formats <-> float32 samples: PCM16 LE, G.711 mu-law and A-law, resampling.

Cheap enough for the gateway's hot path (table lookups and numpy only).
G.711 follows ITU-T G.711 (the same tables as Python's old audioop).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import soxr

from soundloop.errors import InvalidRequest
from soundloop.v1 import audio_pb2

PCM16 = audio_pb2.AUDIO_ENCODING_PCM16LE
MULAW = audio_pb2.AUDIO_ENCODING_MULAW
ALAW = audio_pb2.AUDIO_ENCODING_ALAW
PCM_RATES = (8000, 16000, 24000, 48000)
MODEL_RATE = 16000  # what VAD, ASR and the sound tagger consume


class AudioFormatError(InvalidRequest):
    """The caller's audio format or bytes are not valid; the message says why."""


@dataclasses.dataclass(frozen=True)
class Format:
    encoding: int
    sample_rate_hz: int

    @classmethod
    def from_proto(cls, fmt: audio_pb2.AudioFormat) -> Format:
        return cls(fmt.encoding, fmt.sample_rate_hz)

    def to_proto(self) -> audio_pb2.AudioFormat:
        return audio_pb2.AudioFormat(encoding=self.encoding, sample_rate_hz=self.sample_rate_hz)

    @property
    def bytes_per_sample(self) -> int:
        return 2 if self.encoding == PCM16 else 1

    def byte_count(self, ms: float) -> int:
        return int(round(self.sample_rate_hz * ms / 1000)) * self.bytes_per_sample

    def duration_ms(self, n_bytes: int) -> float:
        return 1000.0 * n_bytes / self.bytes_per_sample / self.sample_rate_hz

    def describe(self) -> str:
        name = audio_pb2.AudioEncoding.Name(self.encoding).removeprefix("AUDIO_ENCODING_")
        return f"{name} {self.sample_rate_hz} Hz"


def validate_format(fmt: Format) -> Format:
    """Returns `fmt` if soundloop accepts it, else raises AudioFormatError saying what is allowed."""
    if fmt.encoding == PCM16:
        if fmt.sample_rate_hz not in PCM_RATES:
            raise AudioFormatError(f"PCM16LE sample_rate_hz must be one of {PCM_RATES}, got {fmt.sample_rate_hz}")
    elif fmt.encoding in (MULAW, ALAW):
        if fmt.sample_rate_hz not in (0, 8000):
            raise AudioFormatError(f"G.711 audio must be 8000 Hz, got {fmt.sample_rate_hz}")
        fmt = Format(fmt.encoding, 8000)
    else:
        raise AudioFormatError("audio encoding must be PCM16LE, MULAW or ALAW")
    return fmt


def _mulaw_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.uint8)
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = ((mantissa.astype(np.int32) << 3) + 0x84) << exponent
    magnitude -= 0x84
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def _alaw_table() -> np.ndarray:
    codes = np.arange(256, dtype=np.uint8) ^ 0x55
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = (codes & 0x0F).astype(np.int32)
    magnitude = np.where(exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0))
    return np.where(sign != 0, magnitude, -magnitude).astype(np.int16)


_MULAW_DECODE = _mulaw_table()
_ALAW_DECODE = _alaw_table()
# Encoding by lookup over all 65536 int16 values: nearest code by decoded value.
_INT16 = np.arange(-32768, 32768, dtype=np.int32)


def _encode_table(decode: np.ndarray) -> np.ndarray:
    order = np.argsort(decode)
    levels = decode[order].astype(np.int32)
    idx = np.clip(np.searchsorted(levels, _INT16), 1, 255)
    nearer_low = (_INT16 - levels[idx - 1]) <= (levels[idx] - _INT16)
    return order[np.where(nearer_low, idx - 1, idx)].astype(np.uint8)


_MULAW_ENCODE = _encode_table(_MULAW_DECODE)
_ALAW_ENCODE = _encode_table(_ALAW_DECODE)


def check_chunk(fmt: Format, data: bytes) -> None:
    if fmt.encoding == PCM16 and len(data) % 2:
        raise AudioFormatError(f"PCM16LE audio needs an even byte count, got {len(data)} bytes")


def decode(fmt: Format, data: bytes) -> np.ndarray:
    """Wire bytes -> float32 samples in [-1, 1] at fmt.sample_rate_hz."""
    check_chunk(fmt, data)
    if fmt.encoding == PCM16:
        ints = np.frombuffer(data, dtype="<i2")
    elif fmt.encoding == MULAW:
        ints = _MULAW_DECODE[np.frombuffer(data, dtype=np.uint8)]
    elif fmt.encoding == ALAW:
        ints = _ALAW_DECODE[np.frombuffer(data, dtype=np.uint8)]
    else:
        raise AudioFormatError("audio encoding must be PCM16LE, MULAW or ALAW")
    return ints.astype(np.float32) / 32768.0


def to_int16(samples: np.ndarray) -> np.ndarray:
    return (np.clip(samples, -1.0, 32767 / 32768) * 32768.0).astype(np.int16)


def encode(fmt: Format, samples: np.ndarray) -> bytes:
    """float32 samples at fmt.sample_rate_hz -> wire bytes."""
    ints = to_int16(samples)
    if fmt.encoding == PCM16:
        return ints.astype("<i2").tobytes()
    table = _MULAW_ENCODE if fmt.encoding == MULAW else _ALAW_ENCODE
    return table[ints.astype(np.int32) + 32768].tobytes()


def resample(samples: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """Whole-signal resampling (clauses, clips). Streams: services.encoder.resampler."""
    if from_hz == to_hz or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    return soxr.resample(samples, from_hz, to_hz, quality="HQ").astype(np.float32)


def through_phone_line(samples: np.ndarray, rate: int = MODEL_RATE) -> np.ndarray:
    """`samples` at `rate` as heard after an 8 kHz G.711 mu-law telephone line, back at `rate`."""
    line = Format(MULAW, 8000)
    return resample(decode(line, encode(line, resample(samples.astype(np.float32), rate, 8000))), 8000, rate)


def pcm16_bytes(samples: np.ndarray) -> bytes:
    return to_int16(samples).astype("<i2").tobytes()


def from_pcm16_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
