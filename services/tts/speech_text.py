"""Reply text -> text a synthesizer can say.

LLMs write for screens even when told not to: markdown emphasis, headings,
bullets, code ticks, links, emoji. Synthesizers read those out ("asterisk
asterisk") or choke on them, so they are removed or turned into words.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

_CODE_FENCE = re.compile(r"```[\w+-]*")
_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")  # [text](url) -> text
_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]]*[^\s<>()\[\].,;:!?'\"]")
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]*", re.MULTILINE)
_QUOTE = re.compile(r"^[ \t]*>[ \t]?", re.MULTILINE)
_BULLET = re.compile(r"^[ \t]*[-*+•·▪‣][ \t]+", re.MULTILINE)
_EMPHASIS = re.compile(r"\*+|~~|(?<!\w)_+|_+(?!\w)")  # keeps snake_case words whole
_EMOJI = re.compile(
    "[\U0001F000-\U0001FAFF\U00002600-\U000027BF\U0001F1E6-\U0001F1FF\U00002B00-\U00002BFF"
    "\U0000FE0E\U0000FE0F\U0000200D\U000020E3]")
# A line that ends without punctuation (heading, list item) still ends a phrase.
_BARE_LINE_END = re.compile(r"(?<=\w)[ \t]*\n")
_SPACE_BEFORE_MARK = re.compile(r"\s+(?=[.,;:!?](?:\s|$))")
_WHITESPACE = re.compile(r"\s+")


def _spoken_url(match: re.Match) -> str:
    url = match.group(0)
    host = urlsplit(url if "://" in url else f"http://{url}").hostname or ""
    host = host.removeprefix("www.")
    return " " + " dot ".join(host.split(".")) if host else " "


def speakable(text: str) -> str:
    """The words of `text` without markup, on one line; empty if nothing is left to say."""
    text = _CODE_FENCE.sub(" ", text)
    text = _IMAGE_OR_LINK.sub(r"\1", text)
    text = _URL.sub(_spoken_url, text)
    text = _HEADING.sub("", text)
    text = _QUOTE.sub("", text)
    text = _BULLET.sub("", text)
    text = _EMPHASIS.sub("", text)
    # Piper reads [[ ... ]] as raw phonemes: reply text must never reach it that way.
    text = text.replace("`", "").replace("[[", " ").replace("]]", " ")
    text = _EMOJI.sub(" ", text)
    text = text.replace("&", " and ")
    text = _BARE_LINE_END.sub(". ", text)
    text = _SPACE_BEFORE_MARK.sub("", text)
    return _WHITESPACE.sub(" ", text).strip()
