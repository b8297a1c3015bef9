"""The one error model: kernel error <-> gRPC status, both ways, and every stage's errors in it."""
from __future__ import annotations

import pickle

import grpc
import pytest

from services.decider import turn_settings
from services.encoder.errors import InvalidStreamState
from services.gateway.events import CallerNotReading
from services.gateway.session_config import InvalidConfig
from services.gateway.session_store import SessionNotFound, SessionTakenOver
from services.llm import chat
from soundloop import errors
from soundloop.audio import codec

pytestmark = pytest.mark.unit

Code = grpc.StatusCode


@pytest.mark.parametrize("error, code, retryable", [
    (errors.InvalidRequest, Code.INVALID_ARGUMENT, False),
    (errors.NotFound, Code.NOT_FOUND, False),
    (errors.Aborted, Code.ABORTED, False),
    (errors.Overloaded, Code.RESOURCE_EXHAUSTED, True),
    (errors.Unavailable, Code.UNAVAILABLE, True),
    (errors.Internal, Code.INTERNAL, False),
])
def test_every_kernel_error_has_its_code_and_keeps_its_message(error, code, retryable):
    err = error("max_tokens must be positive, got 0")
    assert (err.code, err.retryable, err.stage) == (code, retryable, None)
    assert errors.status_of(err) == (code, "max_tokens must be positive, got 0")


@pytest.mark.parametrize("error, kernel", [
    (chat.InvalidRequest, errors.InvalidRequest),
    (chat.Overloaded, errors.Overloaded),
    (chat.BackendUnavailable, errors.Unavailable),
    (chat.BackendError, errors.Internal),
    (InvalidStreamState, errors.InvalidRequest),
    (turn_settings.InvalidRequest, errors.InvalidRequest),
    (codec.AudioFormatError, errors.InvalidRequest),
    (InvalidConfig, errors.InvalidRequest),
    (SessionNotFound, errors.NotFound),
    (SessionTakenOver, errors.Aborted),
    (CallerNotReading, errors.Overloaded),
])
def test_stage_and_gateway_errors_are_kinds_of_kernel_errors(error, kernel):
    err = error("what went wrong")
    assert isinstance(err, kernel)
    assert (err.code, err.retryable) == (kernel.code, kernel.retryable)
    assert errors.status_of(err) == (kernel.code, "what went wrong")


def test_llm_errors_keep_their_family_and_request_errors_stay_value_errors():
    assert all(issubclass(e, chat.LlmError) for e in (chat.InvalidRequest, chat.Overloaded,
                                                        chat.BackendUnavailable, chat.BackendError))
    for error in (errors.InvalidRequest, chat.InvalidRequest, codec.AudioFormatError, InvalidConfig):
        with pytest.raises(ValueError, match="bad field"):
            raise error("bad field")


def test_an_unexpected_exception_is_internal_and_its_text_stays_in_the_log():
    code, message = errors.status_of(KeyError("What time is it? (caller transcript)"), "llm stage")
    assert code == Code.INTERNAL
    assert message == "the llm stage failed; see its log"
    assert errors.status_of(RuntimeError("token 123 at 0x7f"))[1] == "the server failed; see its log"


@pytest.mark.parametrize("code, error", [
    (Code.INVALID_ARGUMENT, errors.InvalidRequest),
    (Code.RESOURCE_EXHAUSTED, errors.Overloaded),
    (Code.UNAVAILABLE, errors.Unavailable),
    (Code.DEADLINE_EXCEEDED, errors.Unavailable),
    (Code.CANCELLED, errors.Unavailable),
    *[(code, errors.Internal) for code in (
        Code.INTERNAL, Code.UNKNOWN, Code.UNIMPLEMENTED, Code.NOT_FOUND, Code.ABORTED, Code.DATA_LOSS,
        Code.FAILED_PRECONDITION, Code.PERMISSION_DENIED, Code.UNAUTHENTICATED, Code.OUT_OF_RANGE,
        Code.ALREADY_EXISTS)],
])
def test_every_status_code_a_stage_answers_becomes_a_kernel_error(code, error):
    err = errors.from_status(code, "the stage's details", stage="tts")
    assert type(err) is error
    assert (err.stage, str(err)) == ("tts", "the stage's details")


def test_every_status_code_is_mapped_back():
    for code in Code:
        if code != Code.OK:
            assert isinstance(errors.from_status(code, "", stage="llm"), errors.SoundloopError), code


def test_what_the_caller_sees_of_a_stage_error():
    assert errors.from_status(Code.INVALID_ARGUMENT, "text is empty", "tts").caller_message() == "tts: text is empty"
    assert errors.from_status(Code.UNAVAILABLE, "", "llm").caller_message() == "llm: UNAVAILABLE"
    # An internal failure seen from the gateway: the stage's details go to the gateway's log only.
    internal = errors.from_status(Code.UNKNOWN, "Exception calling application: KeyError('secret')", "decider")
    assert errors.status_of(internal, "gateway") == (Code.INTERNAL, "the decider stage failed; see its log")
    assert "secret" in str(internal)


def test_a_status_round_trip_keeps_code_message_and_retryable():
    for error in (errors.InvalidRequest, errors.Overloaded, errors.Unavailable, errors.Internal):
        code, message = errors.status_of(error("why"), "encoder stage")
        back = errors.from_status(code, message, "encoder")
        assert (type(back), str(back), back.retryable) == (error, "why", error.retryable)


@pytest.mark.parametrize("error", [errors.InvalidRequest, errors.Overloaded, chat.BackendUnavailable,
                                   InvalidStreamState, SessionTakenOver, CallerNotReading])
def test_errors_survive_pickling_as_ray_sends_them(error):
    err = pickle.loads(pickle.dumps(error("why", stage="llm")))
    assert (type(err), str(err), err.stage, err.code) == (error, "why", "llm", error.code)


def test_an_internal_failure_names_the_trace_whose_log_has_the_detail():
    from opentelemetry import trace
    context = trace.SpanContext(trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736, span_id=0x00F067AA0BA902B7,
                                is_remote=False)
    with trace.use_span(trace.NonRecordingSpan(context)):
        code, message = errors.status_of(RuntimeError("/srv/secret path at 0x7f"), "gateway")
    assert code == Code.INTERNAL
    assert message == "the gateway failed; see its log (trace 4bf92f3577b34da6a3ce929d0e0e4736)"
