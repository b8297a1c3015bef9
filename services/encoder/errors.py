"""Errors the encoder raises for bad requests: kinds of the kernel's InvalidRequest (INVALID_ARGUMENT)."""
from __future__ import annotations

import threading

from soundloop.errors import InvalidRequest

__all__ = ["InvalidRequest", "InvalidStreamState", "RecognitionCancelled"]


class InvalidStreamState(InvalidRequest):
    """`stream_state` is corrupt, from another encoder version, or from another stream."""


class RecognitionCancelled(Exception):
    """The caller gave up on a recognition (a newer one replaced it); the decode stopped early."""

    @classmethod
    def raise_if(cls, cancelled: threading.Event | None) -> None:
        """What an engine calls between steps of a decode it was given `cancelled` for."""
        if cancelled is not None and cancelled.is_set():
            raise cls("recognition cancelled by its caller")
