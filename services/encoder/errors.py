"""Errors the encoder raises for bad requests (the servicer maps them to INVALID_ARGUMENT)."""
from __future__ import annotations


class InvalidRequest(ValueError):
    """The request cannot be served as sent; the message says what to change."""


class InvalidStreamState(InvalidRequest):
    """`stream_state` is corrupt, from another encoder version, or from another stream."""
