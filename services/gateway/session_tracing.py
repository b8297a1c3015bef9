"""The session span: open for the whole Converse stream, parent of its turns and of every stage
call made for it. A caller's own `traceparent` on the stream becomes its parent, so a contact-center
platform sees soundloop's work inside its own trace of the call."""
from __future__ import annotations

from collections.abc import Sequence

import grpc
from opentelemetry.trace import Span, Status, StatusCode

from soundloop import telemetry


def open_session(session_id: str, resumed: bool, metadata: Sequence[tuple[str, str | bytes]] | None) -> Span:
    with telemetry.remote_parent(metadata):
        return telemetry.tracer().start_span(telemetry.SESSION, attributes={
            telemetry.SESSION_ID: session_id, telemetry.SESSION_RESUMED: resumed})


def close_session(span: Span, failure: tuple[grpc.StatusCode, str] | None) -> None:
    if failure is not None:
        span.set_status(Status(StatusCode.ERROR, failure[0].name))
    span.end()
