"""Reply text from generated tokens, piece by piece."""
from __future__ import annotations

import codecs


class TokenTextDecoder:
    """Joins the bytes of successive tokens into text deltas.

    A multi-byte character (an accent, an emoji) can be split across tokens; the incremental
    decoder holds the partial bytes back until the character is complete instead of emitting
    replacement characters mid-stream.
    """

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, piece: bytes) -> str:
        return self._utf8.decode(piece)

    def flush(self) -> str:
        return self._utf8.decode(b"", final=True)
