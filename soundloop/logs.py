"""Log set-up for every soundloop process: one JSON object per line, for log pipelines (Loki,
Elasticsearch, Cloud Logging), or plain text at a terminal.

    SOUNDLOOP_LOG_FORMAT=json|text   (default: text when stderr is a terminal, else json)

A JSON line has time, level, logger, message, and the session id, turn id, trace id and span id
of the call being served when there is one (from the OpenTelemetry context the gateway sets for
each session's tasks and sends to the stages), so one session's lines can be found in every
process. Messages never carry caller content (transcripts, reply text) unless
SOUNDLOOP_TRACE_CONTENT=1: the code logs ids and sizes, not words.
"""
from __future__ import annotations

import datetime
import json
import logging
import os
import sys

from opentelemetry import trace

from soundloop import telemetry


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        ids = telemetry.call_ids()
        if telemetry.SESSION_ID in ids:
            line["session_id"] = ids[telemetry.SESSION_ID]
        if telemetry.TURN_ID in ids:
            line["turn_id"] = ids[telemetry.TURN_ID]
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            line["trace_id"] = f"{span.trace_id:032x}"
            line["span_id"] = f"{span.span_id:016x}"
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    fmt = os.environ.get("SOUNDLOOP_LOG_FORMAT") or ("text" if sys.stderr.isatty() else "json")
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
