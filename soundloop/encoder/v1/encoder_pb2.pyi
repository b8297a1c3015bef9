from soundloop.v1 import audio_pb2 as _audio_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BoundaryKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BOUNDARY_KIND_UNSPECIFIED: _ClassVar[BoundaryKind]
    BOUNDARY_KIND_SPEECH_START: _ClassVar[BoundaryKind]
    BOUNDARY_KIND_SPEECH_END: _ClassVar[BoundaryKind]
BOUNDARY_KIND_UNSPECIFIED: BoundaryKind
BOUNDARY_KIND_SPEECH_START: BoundaryKind
BOUNDARY_KIND_SPEECH_END: BoundaryKind

class AnalyzeChunkRequest(_message.Message):
    __slots__ = ("format", "audio", "stream_state")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    STREAM_STATE_FIELD_NUMBER: _ClassVar[int]
    format: _audio_pb2.AudioFormat
    audio: bytes
    stream_state: bytes
    def __init__(self, format: _Optional[_Union[_audio_pb2.AudioFormat, _Mapping]] = ..., audio: _Optional[bytes] = ..., stream_state: _Optional[bytes] = ...) -> None: ...

class SpeechBoundary(_message.Message):
    __slots__ = ("kind", "sample")
    KIND_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FIELD_NUMBER: _ClassVar[int]
    kind: BoundaryKind
    sample: int
    def __init__(self, kind: _Optional[_Union[BoundaryKind, str]] = ..., sample: _Optional[int] = ...) -> None: ...

class SoundTag(_message.Message):
    __slots__ = ("label", "score", "start_sample", "end_sample")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    START_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    END_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    label: str
    score: float
    start_sample: int
    end_sample: int
    def __init__(self, label: _Optional[str] = ..., score: _Optional[float] = ..., start_sample: _Optional[int] = ..., end_sample: _Optional[int] = ...) -> None: ...

class AnalyzeChunkResponse(_message.Message):
    __slots__ = ("pcm16k", "pcm_start_sample", "boundaries", "in_speech", "speech_ms", "silence_ms", "sound_tags", "stream_state", "pending_silence_ms", "prosody")
    PCM16K_FIELD_NUMBER: _ClassVar[int]
    PCM_START_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    BOUNDARIES_FIELD_NUMBER: _ClassVar[int]
    IN_SPEECH_FIELD_NUMBER: _ClassVar[int]
    SPEECH_MS_FIELD_NUMBER: _ClassVar[int]
    SILENCE_MS_FIELD_NUMBER: _ClassVar[int]
    SOUND_TAGS_FIELD_NUMBER: _ClassVar[int]
    STREAM_STATE_FIELD_NUMBER: _ClassVar[int]
    PENDING_SILENCE_MS_FIELD_NUMBER: _ClassVar[int]
    PROSODY_FIELD_NUMBER: _ClassVar[int]
    pcm16k: bytes
    pcm_start_sample: int
    boundaries: _containers.RepeatedCompositeFieldContainer[SpeechBoundary]
    in_speech: bool
    speech_ms: int
    silence_ms: int
    sound_tags: _containers.RepeatedCompositeFieldContainer[SoundTag]
    stream_state: bytes
    pending_silence_ms: int
    prosody: ChunkProsody
    def __init__(self, pcm16k: _Optional[bytes] = ..., pcm_start_sample: _Optional[int] = ..., boundaries: _Optional[_Iterable[_Union[SpeechBoundary, _Mapping]]] = ..., in_speech: _Optional[bool] = ..., speech_ms: _Optional[int] = ..., silence_ms: _Optional[int] = ..., sound_tags: _Optional[_Iterable[_Union[SoundTag, _Mapping]]] = ..., stream_state: _Optional[bytes] = ..., pending_silence_ms: _Optional[int] = ..., prosody: _Optional[_Union[ChunkProsody, _Mapping]] = ...) -> None: ...

class ChunkProsody(_message.Message):
    __slots__ = ("energy_db", "voiced", "pitch_semitones", "vad_probability")
    ENERGY_DB_FIELD_NUMBER: _ClassVar[int]
    VOICED_FIELD_NUMBER: _ClassVar[int]
    PITCH_SEMITONES_FIELD_NUMBER: _ClassVar[int]
    VAD_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    energy_db: float
    voiced: float
    pitch_semitones: float
    vad_probability: float
    def __init__(self, energy_db: _Optional[float] = ..., voiced: _Optional[float] = ..., pitch_semitones: _Optional[float] = ..., vad_probability: _Optional[float] = ...) -> None: ...

class TranscribeUtteranceRequest(_message.Message):
    __slots__ = ("pcm16k", "language", "is_final")
    PCM16K_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    IS_FINAL_FIELD_NUMBER: _ClassVar[int]
    pcm16k: bytes
    language: str
    is_final: bool
    def __init__(self, pcm16k: _Optional[bytes] = ..., language: _Optional[str] = ..., is_final: _Optional[bool] = ...) -> None: ...

class TranscribeUtteranceResponse(_message.Message):
    __slots__ = ("text", "avg_logprob", "no_speech_prob")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    AVG_LOGPROB_FIELD_NUMBER: _ClassVar[int]
    NO_SPEECH_PROB_FIELD_NUMBER: _ClassVar[int]
    text: str
    avg_logprob: float
    no_speech_prob: float
    def __init__(self, text: _Optional[str] = ..., avg_logprob: _Optional[float] = ..., no_speech_prob: _Optional[float] = ...) -> None: ...

class TranscribeClipRequest(_message.Message):
    __slots__ = ("format", "audio", "language")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    format: _audio_pb2.AudioFormat
    audio: bytes
    language: str
    def __init__(self, format: _Optional[_Union[_audio_pb2.AudioFormat, _Mapping]] = ..., audio: _Optional[bytes] = ..., language: _Optional[str] = ...) -> None: ...

class ClipSegment(_message.Message):
    __slots__ = ("text", "start_ms", "end_ms")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    START_MS_FIELD_NUMBER: _ClassVar[int]
    END_MS_FIELD_NUMBER: _ClassVar[int]
    text: str
    start_ms: int
    end_ms: int
    def __init__(self, text: _Optional[str] = ..., start_ms: _Optional[int] = ..., end_ms: _Optional[int] = ...) -> None: ...

class TranscribeClipResponse(_message.Message):
    __slots__ = ("text", "segments", "sound_tags", "duration_ms")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    SOUND_TAGS_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    text: str
    segments: _containers.RepeatedCompositeFieldContainer[ClipSegment]
    sound_tags: _containers.RepeatedCompositeFieldContainer[SoundTag]
    duration_ms: int
    def __init__(self, text: _Optional[str] = ..., segments: _Optional[_Iterable[_Union[ClipSegment, _Mapping]]] = ..., sound_tags: _Optional[_Iterable[_Union[SoundTag, _Mapping]]] = ..., duration_ms: _Optional[int] = ...) -> None: ...
