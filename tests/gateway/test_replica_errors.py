"""What a Serve handle call raises, as the gateway's kernel errors (ServeStageClients' one mapping).

The Ray errors are Ray's own classes, built as Ray builds them; no cluster is needed for that.
"""
from __future__ import annotations

import grpc
import pytest
from ray import exceptions as ray_errors
from ray.serve import exceptions as serve_errors
from ray.serve._private.common import DeploymentID

from services.gateway.stage_clients import error_of_replica
from services.llm import chat
from soundloop import errors
from soundloop.audio import codec

pytestmark = pytest.mark.unit


def raised_in_replica(cause: Exception) -> ray_errors.RayTaskError:
    """What a handle call raises when the replica raised `cause`: a RayTaskError that is also a `cause`."""
    trace = f"Traceback (most recent call last):\n  File \"replica.py\", line 1\n{type(cause).__name__}: {cause}"
    return ray_errors.RayTaskError("generate", trace, cause).as_instanceof_cause()


@pytest.mark.parametrize("cause", [
    chat.Overloaded("3 generations are already waiting for this model"),
    chat.InvalidRequest("messages is empty"),
    chat.BackendUnavailable("LLM endpoint http://x/v1 unreachable"),
    codec.AudioFormatError("PCM16LE audio needs an even byte count, got 3 bytes"),
])
def test_a_kernel_error_raised_in_a_replica_comes_back_as_itself_with_its_stage(cause):
    wrapped = raised_in_replica(cause)
    assert isinstance(wrapped, type(cause)) and wrapped.cause is cause  # what Ray hands the caller
    for raised in (wrapped, cause):  # a cluster wraps it; local testing mode raises it as it is
        err = error_of_replica(raised, "llm")
        assert type(err) is type(cause)
        assert (str(err), err.stage, err.code, err.retryable) == (str(cause), "llm", cause.code, cause.retryable)
    assert cause.stage is None  # the replica's own error is left alone


def test_an_unexpected_exception_in_a_replica_is_internal_and_callers_do_not_see_it():
    err = error_of_replica(raised_in_replica(KeyError("What time is it?")), "decider")
    assert type(err) is errors.Internal and err.stage == "decider"
    assert "What time is it?" in str(err)  # for the gateway's log...
    assert errors.status_of(err, "gateway") == (grpc.StatusCode.INTERNAL, "the decider stage failed; see its log")


@pytest.mark.parametrize("raised, error", [
    (serve_errors.BackPressureError(num_queued_requests=9, max_queued_requests=8), errors.Overloaded),
    (ray_errors.ActorDiedError(), errors.Unavailable),
    (ray_errors.ActorUnavailableError("node 10.0.0.7 lost", None), errors.Unavailable),
    (ray_errors.WorkerCrashedError(), errors.Unavailable),
    (serve_errors.DeploymentUnavailableError(DeploymentID(name="Tts", app_name="soundloop")), errors.Unavailable),
    (serve_errors.ReplicaUnavailableError("Tts#abc"), errors.Unavailable),
    (serve_errors.RequestCancelledError("req-1"), errors.Unavailable),
    (ray_errors.ObjectLostError("ffff", "owner", "generate"), errors.Internal),
])
def test_serve_refusing_or_losing_a_call_has_the_code_of_what_happened(raised, error):
    err = error_of_replica(raised, "tts")
    assert type(err) is error and err.stage == "tts"
    code, message = errors.status_of(err, "gateway")
    assert code == error.code
    assert "10.0.0.7" not in message and "Tts#abc" not in message  # Ray's texts stay in the log


def test_back_pressure_raised_by_a_replicas_own_call_is_still_overloaded():
    err = error_of_replica(raised_in_replica(serve_errors.BackPressureError(
        num_queued_requests=9, max_queued_requests=8)), "llm")
    assert type(err) is errors.Overloaded and err.retryable
