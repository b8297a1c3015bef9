"""Coverage-guided fuzzing (atheris) of how the gateway reads what callers send: raw bytes through
the tolerant protobuf decoding of every public request, then the validation each message gets
before any work (session config, audio framing and its chunking, typed text). Anything but a
clean InvalidRequest is a crash.

    python -m tests.fuzz.fuzz_requests -runs=50000      # libFuzzer flags; prints executions per second
"""
from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["services", "soundloop"]):  # our code gives the fuzzer its feedback
    from services.gateway.intake import FrameIntake
    from services.gateway.servicer import tolerant
    from services.gateway.session_config import check_audio_chunk, check_text, normalize_config
    from soundloop import instructions
    from soundloop.audio import codec
    from soundloop.errors import InvalidRequest
    from soundloop.settings import EncoderSettings
    from soundloop.v1 import audio_pb2, interaction_pb2 as pb

ENCODER = EncoderSettings()
READERS = [tolerant(pb.ConverseRequest), tolerant(pb.TranscribeRequest), tolerant(pb.AnswerAboutClipRequest)]
FORMATS = [codec.Format(codec.PCM16, 16000), codec.Format(codec.PCM16, 8000), codec.Format(codec.MULAW, 8000),
           codec.Format(codec.ALAW, 8000)]


def one_input(data: bytes) -> None:
    """One of four things a caller controls, built from the fuzzer's bytes (protobuf parsing itself
    is C code the fuzzer cannot see into, so the messages are built field by field)."""
    fdp = atheris.FuzzedDataProvider(data)
    try:
        match fdp.ConsumeIntInRange(0, 3):
            case 0:  # raw bytes as any public request
                READERS[fdp.ConsumeIntInRange(0, 2)](fdp.ConsumeBytes(fdp.remaining_bytes()))
            case 1:  # a session config
                config = pb.SessionConfig(
                    input_audio=audio_pb2.AudioFormat(encoding=fdp.ConsumeIntInRange(0, 5),
                                                      sample_rate_hz=fdp.ConsumeIntInRange(0, 50000)),
                    language=fdp.ConsumeUnicodeNoSurrogates(8), instructions=fdp.ConsumeUnicodeNoSurrogates(200),
                    response=pb.ResponsePolicy(mode=fdp.ConsumeIntInRange(0, 5),
                                               max_sentences=fdp.ConsumeIntInRange(0, 2**32 - 1)))
                normalized = normalize_config(config, ENCODER)
                fmt = codec.Format.from_proto(normalized.input_audio)
                for chunk in FrameIntake(fmt, 100, 0.0, clock=lambda: 0.0).add(b"\x00" * fmt.byte_count(120)):
                    codec.decode(fmt, chunk)
            case 2:  # an audio message in a session's format
                fmt = FORMATS[fdp.ConsumeIntInRange(0, len(FORMATS) - 1)]
                frame = fdp.ConsumeBytes(fdp.remaining_bytes())
                check_audio_chunk(fmt, frame)
                intake = FrameIntake(fmt, 100, 0.0, clock=lambda: 0.0)
                for chunk in [*intake.add(frame), intake.flush()]:
                    codec.decode(fmt, chunk)
            case 3:  # typed text, which may also be a spoken-style instruction
                text = check_text(fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes()))
                instructions.parse(text)
    except InvalidRequest:
        pass


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
