from soundloop.encoder.v1 import encoder_pb2 as _encoder_pb2
from soundloop.v1 import interaction_pb2 as _interaction_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReplyState(_message.Message):
    __slots__ = ("active", "turn_id", "paused")
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    active: bool
    turn_id: str
    paused: bool
    def __init__(self, active: _Optional[bool] = ..., turn_id: _Optional[str] = ..., paused: _Optional[bool] = ...) -> None: ...

class Observation(_message.Message):
    __slots__ = ("now_ms", "in_speech", "speech_ms", "silence_ms", "boundaries", "transcript", "transcript_is_final", "utterance", "sound_tags", "reply", "text_input", "prosody", "turn_speech_ms")
    NOW_MS_FIELD_NUMBER: _ClassVar[int]
    IN_SPEECH_FIELD_NUMBER: _ClassVar[int]
    SPEECH_MS_FIELD_NUMBER: _ClassVar[int]
    SILENCE_MS_FIELD_NUMBER: _ClassVar[int]
    BOUNDARIES_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_IS_FINAL_FIELD_NUMBER: _ClassVar[int]
    UTTERANCE_FIELD_NUMBER: _ClassVar[int]
    SOUND_TAGS_FIELD_NUMBER: _ClassVar[int]
    REPLY_FIELD_NUMBER: _ClassVar[int]
    TEXT_INPUT_FIELD_NUMBER: _ClassVar[int]
    PROSODY_FIELD_NUMBER: _ClassVar[int]
    TURN_SPEECH_MS_FIELD_NUMBER: _ClassVar[int]
    now_ms: int
    in_speech: bool
    speech_ms: int
    silence_ms: int
    boundaries: _containers.RepeatedCompositeFieldContainer[_encoder_pb2.SpeechBoundary]
    transcript: str
    transcript_is_final: bool
    utterance: int
    sound_tags: _containers.RepeatedCompositeFieldContainer[_encoder_pb2.SoundTag]
    reply: ReplyState
    text_input: str
    prosody: _encoder_pb2.ChunkProsody
    turn_speech_ms: int
    def __init__(self, now_ms: _Optional[int] = ..., in_speech: _Optional[bool] = ..., speech_ms: _Optional[int] = ..., silence_ms: _Optional[int] = ..., boundaries: _Optional[_Iterable[_Union[_encoder_pb2.SpeechBoundary, _Mapping]]] = ..., transcript: _Optional[str] = ..., transcript_is_final: _Optional[bool] = ..., utterance: _Optional[int] = ..., sound_tags: _Optional[_Iterable[_Union[_encoder_pb2.SoundTag, _Mapping]]] = ..., reply: _Optional[_Union[ReplyState, _Mapping]] = ..., text_input: _Optional[str] = ..., prosody: _Optional[_Union[_encoder_pb2.ChunkProsody, _Mapping]] = ..., turn_speech_ms: _Optional[int] = ...) -> None: ...

class DeciderPolicy(_message.Message):
    __slots__ = ("turn_detection", "sound_policy", "response")
    TURN_DETECTION_FIELD_NUMBER: _ClassVar[int]
    SOUND_POLICY_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    turn_detection: _interaction_pb2.TurnDetection
    sound_policy: _interaction_pb2.SoundPolicy
    response: _interaction_pb2.ResponsePolicy
    def __init__(self, turn_detection: _Optional[_Union[_interaction_pb2.TurnDetection, _Mapping]] = ..., sound_policy: _Optional[_Union[_interaction_pb2.SoundPolicy, _Mapping]] = ..., response: _Optional[_Union[_interaction_pb2.ResponsePolicy, _Mapping]] = ...) -> None: ...

class DeciderState(_message.Message):
    __slots__ = ("answered_utterance", "eot_text", "eot_probability", "overlap_started_ms", "last_sound_response_ms", "last_action", "last_reason", "turn_model_hidden", "turn_model_probability", "response", "pending_sound", "pending_sound_ms")
    ANSWERED_UTTERANCE_FIELD_NUMBER: _ClassVar[int]
    EOT_TEXT_FIELD_NUMBER: _ClassVar[int]
    EOT_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_STARTED_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_SOUND_RESPONSE_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTION_FIELD_NUMBER: _ClassVar[int]
    LAST_REASON_FIELD_NUMBER: _ClassVar[int]
    TURN_MODEL_HIDDEN_FIELD_NUMBER: _ClassVar[int]
    TURN_MODEL_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    PENDING_SOUND_FIELD_NUMBER: _ClassVar[int]
    PENDING_SOUND_MS_FIELD_NUMBER: _ClassVar[int]
    answered_utterance: int
    eot_text: str
    eot_probability: float
    overlap_started_ms: int
    last_sound_response_ms: int
    last_action: _interaction_pb2.Action
    last_reason: str
    turn_model_hidden: _containers.RepeatedScalarFieldContainer[float]
    turn_model_probability: float
    response: _interaction_pb2.ResponsePolicy
    pending_sound: _encoder_pb2.SoundTag
    pending_sound_ms: int
    def __init__(self, answered_utterance: _Optional[int] = ..., eot_text: _Optional[str] = ..., eot_probability: _Optional[float] = ..., overlap_started_ms: _Optional[int] = ..., last_sound_response_ms: _Optional[int] = ..., last_action: _Optional[_Union[_interaction_pb2.Action, str]] = ..., last_reason: _Optional[str] = ..., turn_model_hidden: _Optional[_Iterable[float]] = ..., turn_model_probability: _Optional[float] = ..., response: _Optional[_Union[_interaction_pb2.ResponsePolicy, _Mapping]] = ..., pending_sound: _Optional[_Union[_encoder_pb2.SoundTag, _Mapping]] = ..., pending_sound_ms: _Optional[int] = ...) -> None: ...

class DecideRequest(_message.Message):
    __slots__ = ("state", "observation", "policy")
    STATE_FIELD_NUMBER: _ClassVar[int]
    OBSERVATION_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    state: DeciderState
    observation: Observation
    policy: DeciderPolicy
    def __init__(self, state: _Optional[_Union[DeciderState, _Mapping]] = ..., observation: _Optional[_Union[Observation, _Mapping]] = ..., policy: _Optional[_Union[DeciderPolicy, _Mapping]] = ...) -> None: ...

class DecideResponse(_message.Message):
    __slots__ = ("decision", "state", "end_of_turn_probability", "sound", "stable_until_ms", "confirmation", "max_sentences")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    END_OF_TURN_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    SOUND_FIELD_NUMBER: _ClassVar[int]
    STABLE_UNTIL_MS_FIELD_NUMBER: _ClassVar[int]
    CONFIRMATION_FIELD_NUMBER: _ClassVar[int]
    MAX_SENTENCES_FIELD_NUMBER: _ClassVar[int]
    decision: _interaction_pb2.Decision
    state: DeciderState
    end_of_turn_probability: float
    sound: _encoder_pb2.SoundTag
    stable_until_ms: int
    confirmation: str
    max_sentences: int
    def __init__(self, decision: _Optional[_Union[_interaction_pb2.Decision, _Mapping]] = ..., state: _Optional[_Union[DeciderState, _Mapping]] = ..., end_of_turn_probability: _Optional[float] = ..., sound: _Optional[_Union[_encoder_pb2.SoundTag, _Mapping]] = ..., stable_until_ms: _Optional[int] = ..., confirmation: _Optional[str] = ..., max_sentences: _Optional[int] = ...) -> None: ...
