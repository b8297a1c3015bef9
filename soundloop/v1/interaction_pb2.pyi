import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from soundloop.v1 import audio_pb2 as _audio_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ResponseMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESPONSE_MODE_UNSPECIFIED: _ClassVar[ResponseMode]
    RESPONSE_MODE_CONVERSE: _ClassVar[ResponseMode]
    RESPONSE_MODE_TRANSCRIBE_ONLY: _ClassVar[ResponseMode]
    RESPONSE_MODE_QUIET_UNTIL_ADDRESSED: _ClassVar[ResponseMode]
    RESPONSE_MODE_SOUNDS_ONLY: _ClassVar[ResponseMode]

class TurnModel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TURN_MODEL_UNSPECIFIED: _ClassVar[TurnModel]
    TURN_MODEL_RULES: _ClassVar[TurnModel]
    TURN_MODEL_LEARNED: _ClassVar[TurnModel]

class Eagerness(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EAGERNESS_UNSPECIFIED: _ClassVar[Eagerness]
    EAGERNESS_LOW: _ClassVar[Eagerness]
    EAGERNESS_MEDIUM: _ClassVar[Eagerness]
    EAGERNESS_HIGH: _ClassVar[Eagerness]

class SoundDomain(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOUND_DOMAIN_UNSPECIFIED: _ClassVar[SoundDomain]
    SOUND_DOMAIN_HUMAN: _ClassVar[SoundDomain]
    SOUND_DOMAIN_DAILY_LIFE: _ClassVar[SoundDomain]
    SOUND_DOMAIN_EQUIPMENT: _ClassVar[SoundDomain]
    SOUND_DOMAIN_TRAFFIC: _ClassVar[SoundDomain]
    SOUND_DOMAIN_NATURE: _ClassVar[SoundDomain]
    SOUND_DOMAIN_MUSIC: _ClassVar[SoundDomain]

class DecisionEvents(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_EVENTS_UNSPECIFIED: _ClassVar[DecisionEvents]
    DECISION_EVENTS_CHANGES: _ClassVar[DecisionEvents]
    DECISION_EVENTS_ALL: _ClassVar[DecisionEvents]

class Action(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTION_UNSPECIFIED: _ClassVar[Action]
    ACTION_KEEP_LISTENING: _ClassVar[Action]
    ACTION_RESPOND: _ClassVar[Action]
    ACTION_STOP_SPEAKING: _ClassVar[Action]
    ACTION_IGNORE_BACKCHANNEL: _ClassVar[Action]
    ACTION_RESPOND_TO_SOUND: _ClassVar[Action]
    ACTION_IGNORE_SOUND: _ClassVar[Action]
    ACTION_PAUSE_SPEAKING: _ClassVar[Action]
    ACTION_RESUME_SPEAKING: _ClassVar[Action]
    ACTION_CHANGE_MODE: _ClassVar[Action]
    ACTION_NO_REPLY: _ClassVar[Action]

class TurnCause(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TURN_CAUSE_UNSPECIFIED: _ClassVar[TurnCause]
    TURN_CAUSE_SPEECH: _ClassVar[TurnCause]
    TURN_CAUSE_TEXT: _ClassVar[TurnCause]
    TURN_CAUSE_SOUND: _ClassVar[TurnCause]
    TURN_CAUSE_UNCLEAR_SPEECH: _ClassVar[TurnCause]
    TURN_CAUSE_INSTRUCTION: _ClassVar[TurnCause]
RESPONSE_MODE_UNSPECIFIED: ResponseMode
RESPONSE_MODE_CONVERSE: ResponseMode
RESPONSE_MODE_TRANSCRIBE_ONLY: ResponseMode
RESPONSE_MODE_QUIET_UNTIL_ADDRESSED: ResponseMode
RESPONSE_MODE_SOUNDS_ONLY: ResponseMode
TURN_MODEL_UNSPECIFIED: TurnModel
TURN_MODEL_RULES: TurnModel
TURN_MODEL_LEARNED: TurnModel
EAGERNESS_UNSPECIFIED: Eagerness
EAGERNESS_LOW: Eagerness
EAGERNESS_MEDIUM: Eagerness
EAGERNESS_HIGH: Eagerness
SOUND_DOMAIN_UNSPECIFIED: SoundDomain
SOUND_DOMAIN_HUMAN: SoundDomain
SOUND_DOMAIN_DAILY_LIFE: SoundDomain
SOUND_DOMAIN_EQUIPMENT: SoundDomain
SOUND_DOMAIN_TRAFFIC: SoundDomain
SOUND_DOMAIN_NATURE: SoundDomain
SOUND_DOMAIN_MUSIC: SoundDomain
DECISION_EVENTS_UNSPECIFIED: DecisionEvents
DECISION_EVENTS_CHANGES: DecisionEvents
DECISION_EVENTS_ALL: DecisionEvents
ACTION_UNSPECIFIED: Action
ACTION_KEEP_LISTENING: Action
ACTION_RESPOND: Action
ACTION_STOP_SPEAKING: Action
ACTION_IGNORE_BACKCHANNEL: Action
ACTION_RESPOND_TO_SOUND: Action
ACTION_IGNORE_SOUND: Action
ACTION_PAUSE_SPEAKING: Action
ACTION_RESUME_SPEAKING: Action
ACTION_CHANGE_MODE: Action
ACTION_NO_REPLY: Action
TURN_CAUSE_UNSPECIFIED: TurnCause
TURN_CAUSE_SPEECH: TurnCause
TURN_CAUSE_TEXT: TurnCause
TURN_CAUSE_SOUND: TurnCause
TURN_CAUSE_UNCLEAR_SPEECH: TurnCause
TURN_CAUSE_INSTRUCTION: TurnCause

class ConverseRequest(_message.Message):
    __slots__ = ("config", "audio", "text", "playback", "end_of_input")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PLAYBACK_FIELD_NUMBER: _ClassVar[int]
    END_OF_INPUT_FIELD_NUMBER: _ClassVar[int]
    config: SessionConfig
    audio: AudioChunk
    text: TextInput
    playback: PlaybackReport
    end_of_input: EndOfInput
    def __init__(self, config: _Optional[_Union[SessionConfig, _Mapping]] = ..., audio: _Optional[_Union[AudioChunk, _Mapping]] = ..., text: _Optional[_Union[TextInput, _Mapping]] = ..., playback: _Optional[_Union[PlaybackReport, _Mapping]] = ..., end_of_input: _Optional[_Union[EndOfInput, _Mapping]] = ...) -> None: ...

class SessionConfig(_message.Message):
    __slots__ = ("input_audio", "output_audio", "language", "instructions", "voice", "resume_token", "replay_after_sequence", "turn_detection", "sound_policy", "decision_events", "response")
    INPUT_AUDIO_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_AUDIO_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    VOICE_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REPLAY_AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TURN_DETECTION_FIELD_NUMBER: _ClassVar[int]
    SOUND_POLICY_FIELD_NUMBER: _ClassVar[int]
    DECISION_EVENTS_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    input_audio: _audio_pb2.AudioFormat
    output_audio: _audio_pb2.AudioFormat
    language: str
    instructions: str
    voice: str
    resume_token: str
    replay_after_sequence: int
    turn_detection: TurnDetection
    sound_policy: SoundPolicy
    decision_events: DecisionEvents
    response: ResponsePolicy
    def __init__(self, input_audio: _Optional[_Union[_audio_pb2.AudioFormat, _Mapping]] = ..., output_audio: _Optional[_Union[_audio_pb2.AudioFormat, _Mapping]] = ..., language: _Optional[str] = ..., instructions: _Optional[str] = ..., voice: _Optional[str] = ..., resume_token: _Optional[str] = ..., replay_after_sequence: _Optional[int] = ..., turn_detection: _Optional[_Union[TurnDetection, _Mapping]] = ..., sound_policy: _Optional[_Union[SoundPolicy, _Mapping]] = ..., decision_events: _Optional[_Union[DecisionEvents, str]] = ..., response: _Optional[_Union[ResponsePolicy, _Mapping]] = ...) -> None: ...

class ResponsePolicy(_message.Message):
    __slots__ = ("mode", "wake_phrases", "max_sentences")
    MODE_FIELD_NUMBER: _ClassVar[int]
    WAKE_PHRASES_FIELD_NUMBER: _ClassVar[int]
    MAX_SENTENCES_FIELD_NUMBER: _ClassVar[int]
    mode: ResponseMode
    wake_phrases: _containers.RepeatedScalarFieldContainer[str]
    max_sentences: int
    def __init__(self, mode: _Optional[_Union[ResponseMode, str]] = ..., wake_phrases: _Optional[_Iterable[str]] = ..., max_sentences: _Optional[int] = ...) -> None: ...

class TurnDetection(_message.Message):
    __slots__ = ("eagerness", "max_silence_ms", "min_silence_ms", "allow_barge_in", "model")
    EAGERNESS_FIELD_NUMBER: _ClassVar[int]
    MAX_SILENCE_MS_FIELD_NUMBER: _ClassVar[int]
    MIN_SILENCE_MS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_BARGE_IN_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    eagerness: Eagerness
    max_silence_ms: int
    min_silence_ms: int
    allow_barge_in: bool
    model: TurnModel
    def __init__(self, eagerness: _Optional[_Union[Eagerness, str]] = ..., max_silence_ms: _Optional[int] = ..., min_silence_ms: _Optional[int] = ..., allow_barge_in: _Optional[bool] = ..., model: _Optional[_Union[TurnModel, str]] = ...) -> None: ...

class SoundPolicy(_message.Message):
    __slots__ = ("respond_labels", "min_score", "disable_proactive", "ignore_labels", "respond_domains", "ignore_domains", "urgent_labels")
    RESPOND_LABELS_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    DISABLE_PROACTIVE_FIELD_NUMBER: _ClassVar[int]
    IGNORE_LABELS_FIELD_NUMBER: _ClassVar[int]
    RESPOND_DOMAINS_FIELD_NUMBER: _ClassVar[int]
    IGNORE_DOMAINS_FIELD_NUMBER: _ClassVar[int]
    URGENT_LABELS_FIELD_NUMBER: _ClassVar[int]
    respond_labels: _containers.RepeatedScalarFieldContainer[str]
    min_score: float
    disable_proactive: bool
    ignore_labels: _containers.RepeatedScalarFieldContainer[str]
    respond_domains: _containers.RepeatedScalarFieldContainer[SoundDomain]
    ignore_domains: _containers.RepeatedScalarFieldContainer[SoundDomain]
    urgent_labels: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, respond_labels: _Optional[_Iterable[str]] = ..., min_score: _Optional[float] = ..., disable_proactive: _Optional[bool] = ..., ignore_labels: _Optional[_Iterable[str]] = ..., respond_domains: _Optional[_Iterable[_Union[SoundDomain, str]]] = ..., ignore_domains: _Optional[_Iterable[_Union[SoundDomain, str]]] = ..., urgent_labels: _Optional[_Iterable[str]] = ...) -> None: ...

class AudioChunk(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    def __init__(self, data: _Optional[bytes] = ...) -> None: ...

class TextInput(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class PlaybackReport(_message.Message):
    __slots__ = ("turn_id", "samples_played")
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_PLAYED_FIELD_NUMBER: _ClassVar[int]
    turn_id: str
    samples_played: int
    def __init__(self, turn_id: _Optional[str] = ..., samples_played: _Optional[int] = ...) -> None: ...

class EndOfInput(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ConverseResponse(_message.Message):
    __slots__ = ("sequence", "audio_offset", "session_started", "speech_started", "speech_stopped", "transcript", "sound_event", "decision", "reply_text", "reply_audio", "turn_started", "turn_completed", "turn_interrupted", "error", "mode_changed")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    AUDIO_OFFSET_FIELD_NUMBER: _ClassVar[int]
    SESSION_STARTED_FIELD_NUMBER: _ClassVar[int]
    SPEECH_STARTED_FIELD_NUMBER: _ClassVar[int]
    SPEECH_STOPPED_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_FIELD_NUMBER: _ClassVar[int]
    SOUND_EVENT_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REPLY_TEXT_FIELD_NUMBER: _ClassVar[int]
    REPLY_AUDIO_FIELD_NUMBER: _ClassVar[int]
    TURN_STARTED_FIELD_NUMBER: _ClassVar[int]
    TURN_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    TURN_INTERRUPTED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    MODE_CHANGED_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    audio_offset: _duration_pb2.Duration
    session_started: SessionStarted
    speech_started: SpeechStarted
    speech_stopped: SpeechStopped
    transcript: Transcript
    sound_event: SoundEvent
    decision: Decision
    reply_text: ReplyText
    reply_audio: ReplyAudio
    turn_started: TurnStarted
    turn_completed: TurnCompleted
    turn_interrupted: TurnInterrupted
    error: Error
    mode_changed: ModeChanged
    def __init__(self, sequence: _Optional[int] = ..., audio_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., session_started: _Optional[_Union[SessionStarted, _Mapping]] = ..., speech_started: _Optional[_Union[SpeechStarted, _Mapping]] = ..., speech_stopped: _Optional[_Union[SpeechStopped, _Mapping]] = ..., transcript: _Optional[_Union[Transcript, _Mapping]] = ..., sound_event: _Optional[_Union[SoundEvent, _Mapping]] = ..., decision: _Optional[_Union[Decision, _Mapping]] = ..., reply_text: _Optional[_Union[ReplyText, _Mapping]] = ..., reply_audio: _Optional[_Union[ReplyAudio, _Mapping]] = ..., turn_started: _Optional[_Union[TurnStarted, _Mapping]] = ..., turn_completed: _Optional[_Union[TurnCompleted, _Mapping]] = ..., turn_interrupted: _Optional[_Union[TurnInterrupted, _Mapping]] = ..., error: _Optional[_Union[Error, _Mapping]] = ..., mode_changed: _Optional[_Union[ModeChanged, _Mapping]] = ...) -> None: ...

class SessionStarted(_message.Message):
    __slots__ = ("session_id", "resume_token", "resumed", "output_audio")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    RESUMED_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_AUDIO_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    resume_token: str
    resumed: bool
    output_audio: _audio_pb2.AudioFormat
    def __init__(self, session_id: _Optional[str] = ..., resume_token: _Optional[str] = ..., resumed: _Optional[bool] = ..., output_audio: _Optional[_Union[_audio_pb2.AudioFormat, _Mapping]] = ...) -> None: ...

class SpeechStarted(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SpeechStopped(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Transcript(_message.Message):
    __slots__ = ("text", "is_final", "stability", "utterance", "start", "end")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IS_FINAL_FIELD_NUMBER: _ClassVar[int]
    STABILITY_FIELD_NUMBER: _ClassVar[int]
    UTTERANCE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    text: str
    is_final: bool
    stability: float
    utterance: int
    start: _duration_pb2.Duration
    end: _duration_pb2.Duration
    def __init__(self, text: _Optional[str] = ..., is_final: _Optional[bool] = ..., stability: _Optional[float] = ..., utterance: _Optional[int] = ..., start: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., end: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class SoundEvent(_message.Message):
    __slots__ = ("label", "score", "start", "end", "domain")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    label: str
    score: float
    start: _duration_pb2.Duration
    end: _duration_pb2.Duration
    domain: SoundDomain
    def __init__(self, label: _Optional[str] = ..., score: _Optional[float] = ..., start: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., end: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., domain: _Optional[_Union[SoundDomain, str]] = ...) -> None: ...

class Decision(_message.Message):
    __slots__ = ("action", "reason", "confidence", "turn_id")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    action: Action
    reason: str
    confidence: float
    turn_id: str
    def __init__(self, action: _Optional[_Union[Action, str]] = ..., reason: _Optional[str] = ..., confidence: _Optional[float] = ..., turn_id: _Optional[str] = ...) -> None: ...

class ReplyText(_message.Message):
    __slots__ = ("turn_id", "delta")
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    turn_id: str
    delta: str
    def __init__(self, turn_id: _Optional[str] = ..., delta: _Optional[str] = ...) -> None: ...

class ReplyAudio(_message.Message):
    __slots__ = ("turn_id", "data", "start_sample")
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    START_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    turn_id: str
    data: bytes
    start_sample: int
    def __init__(self, turn_id: _Optional[str] = ..., data: _Optional[bytes] = ..., start_sample: _Optional[int] = ...) -> None: ...

class ModeChanged(_message.Message):
    __slots__ = ("response", "instruction")
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    response: ResponsePolicy
    instruction: str
    def __init__(self, response: _Optional[_Union[ResponsePolicy, _Mapping]] = ..., instruction: _Optional[str] = ...) -> None: ...

class TurnStarted(_message.Message):
    __slots__ = ("turn_id", "cause", "prompt", "heard_sound")
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    HEARD_SOUND_FIELD_NUMBER: _ClassVar[int]
    turn_id: str
    cause: TurnCause
    prompt: str
    heard_sound: str
    def __init__(self, turn_id: _Optional[str] = ..., cause: _Optional[_Union[TurnCause, str]] = ..., prompt: _Optional[str] = ..., heard_sound: _Optional[str] = ...) -> None: ...

class TurnCompleted(_message.Message):
    __slots__ = ("turn_id", "text", "audio_samples", "metrics")
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    AUDIO_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    turn_id: str
    text: str
    audio_samples: int
    metrics: TurnMetrics
    def __init__(self, turn_id: _Optional[str] = ..., text: _Optional[str] = ..., audio_samples: _Optional[int] = ..., metrics: _Optional[_Union[TurnMetrics, _Mapping]] = ...) -> None: ...

class TurnInterrupted(_message.Message):
    __slots__ = ("turn_id", "heard_text", "samples_heard", "metrics")
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    HEARD_TEXT_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_HEARD_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    turn_id: str
    heard_text: str
    samples_heard: int
    metrics: TurnMetrics
    def __init__(self, turn_id: _Optional[str] = ..., heard_text: _Optional[str] = ..., samples_heard: _Optional[int] = ..., metrics: _Optional[_Union[TurnMetrics, _Mapping]] = ...) -> None: ...

class TurnMetrics(_message.Message):
    __slots__ = ("voice_to_voice", "end_of_speech_to_decision", "recognition", "llm_first_token", "tts_first_audio", "decision_to_first_audio", "barge_in_stop")
    VOICE_TO_VOICE_FIELD_NUMBER: _ClassVar[int]
    END_OF_SPEECH_TO_DECISION_FIELD_NUMBER: _ClassVar[int]
    RECOGNITION_FIELD_NUMBER: _ClassVar[int]
    LLM_FIRST_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TTS_FIRST_AUDIO_FIELD_NUMBER: _ClassVar[int]
    DECISION_TO_FIRST_AUDIO_FIELD_NUMBER: _ClassVar[int]
    BARGE_IN_STOP_FIELD_NUMBER: _ClassVar[int]
    voice_to_voice: _duration_pb2.Duration
    end_of_speech_to_decision: _duration_pb2.Duration
    recognition: _duration_pb2.Duration
    llm_first_token: _duration_pb2.Duration
    tts_first_audio: _duration_pb2.Duration
    decision_to_first_audio: _duration_pb2.Duration
    barge_in_stop: _duration_pb2.Duration
    def __init__(self, voice_to_voice: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., end_of_speech_to_decision: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., recognition: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., llm_first_token: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., tts_first_audio: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., decision_to_first_audio: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., barge_in_stop: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class TranscribeRequest(_message.Message):
    __slots__ = ("audio_format", "audio", "language")
    AUDIO_FORMAT_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    audio_format: _audio_pb2.AudioFormat
    audio: bytes
    language: str
    def __init__(self, audio_format: _Optional[_Union[_audio_pb2.AudioFormat, _Mapping]] = ..., audio: _Optional[bytes] = ..., language: _Optional[str] = ...) -> None: ...

class TranscriptSegment(_message.Message):
    __slots__ = ("text", "start", "end")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    text: str
    start: _duration_pb2.Duration
    end: _duration_pb2.Duration
    def __init__(self, text: _Optional[str] = ..., start: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., end: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class TranscribeResponse(_message.Message):
    __slots__ = ("text", "segments", "sound_events", "duration")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    SOUND_EVENTS_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    text: str
    segments: _containers.RepeatedCompositeFieldContainer[TranscriptSegment]
    sound_events: _containers.RepeatedCompositeFieldContainer[SoundEvent]
    duration: _duration_pb2.Duration
    def __init__(self, text: _Optional[str] = ..., segments: _Optional[_Iterable[_Union[TranscriptSegment, _Mapping]]] = ..., sound_events: _Optional[_Iterable[_Union[SoundEvent, _Mapping]]] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class AnswerAboutClipRequest(_message.Message):
    __slots__ = ("audio_format", "audio", "language", "instruction")
    AUDIO_FORMAT_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    audio_format: _audio_pb2.AudioFormat
    audio: bytes
    language: str
    instruction: str
    def __init__(self, audio_format: _Optional[_Union[_audio_pb2.AudioFormat, _Mapping]] = ..., audio: _Optional[bytes] = ..., language: _Optional[str] = ..., instruction: _Optional[str] = ...) -> None: ...

class AnswerAboutClipResponse(_message.Message):
    __slots__ = ("answer", "perception")
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    PERCEPTION_FIELD_NUMBER: _ClassVar[int]
    answer: str
    perception: TranscribeResponse
    def __init__(self, answer: _Optional[str] = ..., perception: _Optional[_Union[TranscribeResponse, _Mapping]] = ...) -> None: ...
