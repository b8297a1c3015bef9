"""Validation of the caller's SessionConfig and of each inbound message.

Every rejection says what was wrong and what is allowed, so an integrator can
fix the client from the error alone. Turn detection and sound policy are not
checked here: the decider alone validates policy (the servicer asks it at start). A response
policy the config leaves unset is read from its `instructions` (soundloop/instructions.py).
"""
from __future__ import annotations

from soundloop import instructions, languages
from soundloop.audio import codec
from soundloop.errors import InvalidRequest
from soundloop.settings import EncoderSettings
from soundloop.v1 import interaction_pb2 as pb

MIN_CHUNK_MS = 10
MAX_CHUNK_MS = 200
MAX_INSTRUCTIONS_CHARS = 8000
MAX_TEXT_CHARS = 4000


class InvalidConfig(InvalidRequest):
    """The SessionConfig cannot start a session; turn and sound policy are the decider's to judge."""


def normalize_config(config: pb.SessionConfig, encoder: EncoderSettings) -> pb.SessionConfig:
    """Returns a copy with defaults filled in; raises InvalidConfig naming the bad field."""
    out = pb.SessionConfig()
    out.CopyFrom(config)
    if not config.HasField("input_audio"):
        raise InvalidConfig("config.input_audio is required (encoding and sample_rate_hz)")
    try:
        out.input_audio.CopyFrom(codec.validate_format(codec.Format.from_proto(config.input_audio)).to_proto())
        if not config.HasField("output_audio"):
            out.output_audio.CopyFrom(out.input_audio)
        out.output_audio.CopyFrom(codec.validate_format(codec.Format.from_proto(out.output_audio)).to_proto())
    except codec.AudioFormatError as err:
        raise InvalidConfig(f"config audio format: {err}") from err
    out.language = (config.language or "en").lower()
    if (problem := languages.unsupported(config.language, encoder.english_only)) is not None:
        if encoder.english_only:
            problem += (f" ({encoder.asr_model}); or load a multilingual model "
                        "(SOUNDLOOP_ENCODER__ASR_MULTILINGUAL_MODEL=whisper-base)")
        raise InvalidConfig(problem)
    if len(config.instructions) > MAX_INSTRUCTIONS_CHARS:
        raise InvalidConfig(f"config.instructions is {len(config.instructions)} characters; "
                            f"the limit is {MAX_INSTRUCTIONS_CHARS}")
    out.response.CopyFrom(instructions.session_response(config.response, config.instructions))
    return out


def check_audio_chunk(fmt: codec.Format, data: bytes) -> None:
    """Raises InvalidRequest if one audio message breaks the 10-200 ms framing contract."""
    if not data:
        raise InvalidRequest("audio chunk is empty")
    codec.check_chunk(fmt, data)
    ms = fmt.duration_ms(len(data))
    if ms > MAX_CHUNK_MS:
        raise InvalidRequest(f"audio chunk of {len(data)} bytes is {ms:.0f} ms of {fmt.describe()}; "
                             f"send at most {MAX_CHUNK_MS} ms ({fmt.byte_count(MAX_CHUNK_MS)} bytes) per message")


def check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidRequest("text input is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidRequest(f"text input is {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
    return text
