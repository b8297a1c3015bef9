"""One error model for the stages and the gateway: typed errors, their gRPC status, and back.

Stages raise these; every servicer turns an exception into a status with `status_of`
(through `errors_as_status`); the gateway's stage clients turn a status back into the
same type with `from_status`, so the gateway reacts to one vocabulary whatever the
transport. The message of one of these errors is written by us and safe to show a
caller. Any other exception is internal: its text may hold caller content or server
internals, so it goes to the log and the caller is told only where to look.
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import NamedTuple

import grpc
from opentelemetry import trace

log = logging.getLogger(__name__)


class SoundloopError(Exception):
    """Base of our errors. `retryable`: whether the same call may succeed later or elsewhere.

    `stage` is set by the gateway's stage clients: the stage that raised it, or None when
    raised in this process.
    """
    code = grpc.StatusCode.INTERNAL
    retryable = False

    def __init__(self, message: str = "", *, stage: str | None = None):
        super().__init__(message)
        self.stage = stage

    def caller_message(self) -> str:
        """What the caller is told: the message, after the stage it came from when that is known."""
        return f"{self.stage}: {self}" if self.stage else str(self)


class InvalidRequest(SoundloopError, ValueError):
    """The request cannot succeed as sent; the message names the field and what is allowed."""
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(SoundloopError, LookupError):
    """What the request refers to does not exist (any more)."""
    code = grpc.StatusCode.NOT_FOUND


class Aborted(SoundloopError):
    """The call was ended because something else took precedence over it."""
    code = grpc.StatusCode.ABORTED


class Unauthenticated(SoundloopError):
    """The call carries no valid credentials."""
    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(SoundloopError):
    """The caller is known but may not do this (another tenant's session, a policy of its operator)."""
    code = grpc.StatusCode.PERMISSION_DENIED


class Overloaded(SoundloopError):
    """A capacity or buffer limit was hit; trying again later may succeed."""
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    retryable = True


class Unavailable(SoundloopError):
    """A stage or backend cannot be reached, or went away mid-call."""
    code = grpc.StatusCode.UNAVAILABLE
    retryable = True


class Internal(SoundloopError):
    """A failure on our side that retrying will not fix."""

    def caller_message(self) -> str:
        # Seen from the gateway, a stage's internal failure is that stage's business: point at its log.
        return failed_message(f"{self.stage} stage") if self.stage else str(self)


def failed_message(where: str) -> str:
    """The caller's whole story of an unexpected exception in `where` ("llm stage", "gateway"), with the
    trace id when tracing is on: the log line with the detail carries the same one (soundloop/logs.py)."""
    span = trace.get_current_span().get_span_context()
    return f"the {where} failed; see its log" + (f" (trace {span.trace_id:032x})" if span.is_valid else "")


class Status(NamedTuple):
    """What the caller is told: `context.abort(*status)`, or an Error event with `code.name`."""
    code: grpc.StatusCode
    message: str


def status_of(err: BaseException, where: str = "server") -> Status:
    """The status and caller-safe message for any exception raised in `where` ("gateway", "llm stage")."""
    if isinstance(err, SoundloopError):
        return Status(err.code, err.caller_message())
    return Status(grpc.StatusCode.INTERNAL, failed_message(where))


# A stage only means these; anything else it answers (UNKNOWN, UNIMPLEMENTED, ...) is a fault.
_ERROR_OF_CODE: dict[grpc.StatusCode, type[SoundloopError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidRequest,
    grpc.StatusCode.RESOURCE_EXHAUSTED: Overloaded,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    # The stage server went away or stopped mid-call (CANCELLED reaches a client only from the
    # server side: a client that cancels its own call sees asyncio.CancelledError).
    grpc.StatusCode.CANCELLED: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: Unavailable,
}


def from_status(code: grpc.StatusCode, details: str, stage: str) -> SoundloopError:
    """The error a stage's status stands for, `stage` set, the stage's details as its message."""
    return _ERROR_OF_CODE.get(code, Internal)(details or code.name, stage=stage)


@contextlib.asynccontextmanager
async def errors_as_status(context: grpc.aio.ServicerContext, where: str, method: str) -> AsyncIterator[None]:
    """Ends the call with the status of whatever the body raises: a servicer's one error path.

    Wraps unary bodies and the loops of server-streaming ones. Client cancellation
    (asyncio.CancelledError) and generator closing are BaseExceptions and pass through untouched.
    `where` is the process ("llm stage", "gateway"); `method` names the call in the log (add the
    session or turn it served).
    """
    try:
        yield
        return
    except grpc.aio.AbortError:
        raise  # already a status
    except Exception as err:
        status = status_of(err, where)
        if not isinstance(err, SoundloopError):
            log.exception("%s: %s failed", where, method)
        elif status.code == grpc.StatusCode.INTERNAL:
            log.error("%s: %s failed: %s", where, method, err)
    # Outside the except block: abort raises, and that is not a failure of the call's work.
    await context.abort(*status)
