"""Which spoken languages a session may ask for: told at config time, not by a silent recognizer.

Moonshine hears English only; a multilingual Whisper hears the languages of its tokenizer, listed
here so the gateway (which loads no ASR model) can refuse the others up front. The list is checked
against faster-whisper's own by tests/kernel/test_languages.py.
"""
from __future__ import annotations

import re

DEFAULT_LANGUAGE = "en"

WHISPER_LANGUAGES = frozenset((
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw he hi hr ht hu "
    "hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt my ne nl nn no oc pa pl ps pt "
    "ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk tl tr tt uk ur uz vi yi yo zh yue").split())

_TAG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8})*$")


def language_code(requested: str) -> str:
    """The primary subtag of a BCP-47 tag, lower case ("en-US", "EN_gb" -> "en"); "" means English."""
    return (requested or DEFAULT_LANGUAGE).strip().lower().replace("_", "-").split("-")[0]


def unsupported(requested: str, english_only: bool) -> str | None:
    """Why a session cannot have language `requested` (a BCP-47 tag), or None if it can."""
    tag = (requested or DEFAULT_LANGUAGE).strip().lower().replace("_", "-")
    if not _TAG.match(tag):
        return f"language {requested!r} is not a BCP-47 language tag such as 'en', 'en-US' or 'de'"
    code = language_code(tag)
    if english_only and code != "en":
        return f"language {requested!r} is not supported: the speech models hear English only; use 'en'"
    if code not in WHISPER_LANGUAGES:
        return (f"language {requested!r} is not supported; supported: "
                f"{', '.join(sorted(WHISPER_LANGUAGES))}")
    return None
