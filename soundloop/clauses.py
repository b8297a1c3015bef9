"""Cuts an LLM's streamed reply into clauses that can be spoken one by one.

Speech starts after the first clause instead of the first sentence, so cuts
come early: at sentence ends, at ; and :, at newlines (lists), and at commas
once the clause is long enough to sound like a phrase. A cut is made only when
the character after the punctuation has arrived (a space), so "3.5" and "1,000"
are never cut, and the result does not depend on how the text was split into
deltas. When in doubt (abbreviations, initials) the segmenter does not cut: a
longer clause costs a little latency, a wrong cut sounds broken.

The reply's first clause decides when the caller hears anything, and a 1.5B model
writes ~25 tokens a second on 2 cores, so a 12-word first sentence would keep the
caller waiting ~0.6 s for its last word. The first clause is therefore cut early at
a phrase boundary: before a conjunction or preposition once it has three words, and
after six words at the latest (a 135M model on a busy core makes ~40 tokens a second,
so each word held back costs ~35 ms before anything is heard). Later clauses are synthesized while
the first one plays, so they keep the natural cuts.

A slow LLM can still hold six words back for most of a second (Qwen2.5-1.5B on 2 busy cores: ~12
tokens a second). So the reply may also cut its first clause on time: `cut_early()` gives the words
so far, up to a comma or a phrase boundary, or after the last word that does not need the next one
("the", "of", "is" do), once the first words have waited long enough (the gateway's
first_clause_budget_ms). The clause after such a cut follows the first clause's rules too, so the
short first phrase is followed by a short second one rather than by a long wait.

The gateway cuts with it between the LLM and TTS stages, so it lives in the kernel.
"""
from __future__ import annotations

import re

# Punctuation that may end a clause, with closing quotes or brackets after it.
_CLOSERS = "\"')]}”’»"
_CLOSER = f"[{re.escape(_CLOSERS)}]"
_CANDIDATE = re.compile(rf"[.!?…]+{_CLOSER}*|[;:,]{_CLOSER}*|\n")
_OPENERS = "\"'([{“‘«"
_LAST_WORD = re.compile(r"(\S+)$")
_COMPLETE_WORD = re.compile(r"\S+(?=\s)")
_DOTTED = re.compile(r"(?:[A-Za-z]{1,2}\.)+[A-Za-z]{1,2}")  # e.g, i.e, U.S, a.m, Ph.D

# Words whose trailing period does not end a sentence. Dotted forms (e.g., i.e.,
# U.S., a.m.) and single letters (initials) are recognised without a list.
ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "etc", "approx", "dept", "fig",
    "inc", "ltd", "co", "corp", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
    "oct", "nov", "dec", "no", "vol", "ave", "rd", "gen", "capt", "lt", "sgt", "rev", "hon",
})


# Words that start a new phrase: the first clause may be cut just before one.
PHRASE_STARTERS = frozenset({
    "and", "but", "or", "so", "because", "although", "though", "while", "which", "who", "whose", "where",
    "when", "if", "unless", "until", "since", "than", "that", "with", "without", "for", "to", "in", "on",
    "at", "from", "by", "about", "into", "during", "after", "before", "between", "through", "over", "under",
})


# Words a phrase spoken on its own should not end on: they need the next word.
NEEDS_NEXT = PHRASE_STARTERS | frozenset({
    "the", "a", "an", "my", "your", "our", "their", "its", "his", "her", "this", "these", "those", "some", "any",
    "no", "every", "each", "of", "is", "are", "was", "were", "be", "been", "am", "will", "would", "can", "could",
    "should", "must", "not", "very", "i", "we", "they", "he", "she", "as", "like", "such", "just",
})
_TRAILING_PUNCTUATION = ".,;:!?…\"')]}”’»"


def _speakable(text: str) -> bool:
    return any(c.isalnum() for c in text)


def _period_ends_sentence(text_before: str) -> bool:
    match = _LAST_WORD.search(text_before)
    if not match:
        return True
    word = match.group(1).lstrip(_OPENERS)
    if _DOTTED.fullmatch(word) or word.isdigit():  # "e.g." "U.S." "a.m.", list numbers "1."
        return False
    if len(word) == 1 and word.isalpha():  # initials: "J. R. R. Tolkien"
        return False
    return word.lower() not in ABBREVIATIONS


_SENTENCE_END = re.compile(rf"[.!?…]+{_CLOSER}*(?=\s)")


def sentences_end(text: str, count: int) -> int | None:
    """Where the first `count` sentences of `text` end (after their closing punctuation), or None
    while fewer are complete. As for clauses, an end needs the whitespace after it and a period
    after an abbreviation or a number does not end a sentence."""
    for match in _SENTENCE_END.finditer(text):
        if match.group().rstrip(_CLOSERS).startswith(".") and not _period_ends_sentence(text[:match.start()]):
            continue
        if not _speakable(text[:match.start()]):
            continue
        count -= 1
        if count == 0:
            return match.end()
    return None


class ClauseSegmenter:
    """Streamed reply text in, complete clauses out. One instance per reply.

    `push(delta)` returns the clauses the delta completed; `flush()` returns the
    rest at the end of the reply and makes the segmenter ready for a new one.
    Clauses are stripped, never empty, and carry at least one letter or digit
    (pure punctuation or emoji is kept and spoken with the next clause).
    """

    def __init__(self, comma_words: int = 4, first_comma_words: int = 3, max_words: int = 30,
                 first_phrase_words: int = 3, first_max_words: int = 6):
        # A comma cuts only once the clause has this many words; the reply's first
        # clause may be cut sooner, since it decides when the caller hears anything.
        self.comma_words = comma_words
        self.first_comma_words = first_comma_words
        # A run-on without punctuation is cut after this many words.
        self.max_words = max_words
        # The first clause is cut before a phrase starter once it has `first_phrase_words`
        # words, and after `first_max_words` words at the latest.
        self.first_phrase_words = first_phrase_words
        self.first_max_words = first_max_words
        self._buffer = ""
        self._emitted = False
        self._first_rules = True  # the next clause is cut by the first clause's short rules

    @property
    def started(self) -> bool:
        """A clause of this reply has been cut."""
        return self._emitted

    def cut_early(self, min_words: int = 2) -> str | None:
        """The first clause, cut before its natural end (see the module docstring): the complete words so
        far up to the last comma, else before the last phrase starter, else all of them if the last does
        not need the next one; at least `min_words` words (one before a comma: "Sure,"). None when no
        such cut exists yet (the next word will tell), or once a clause has been cut."""
        if self._emitted:
            return None
        comma = phrase = word_end = None  # the latest cut of each kind, best kind first
        for count, match in enumerate(_COMPLETE_WORD.finditer(self._buffer), start=1):
            word = match.group()
            bare = word.strip(_TRAILING_PUNCTUATION + _OPENERS).lower()
            if word.endswith((",", ";", ":")):
                comma = match.end()
            if count - 1 >= min_words and bare in PHRASE_STARTERS:
                phrase = match.start()
            word_end = match.end() if count >= min_words and bare not in NEEDS_NEXT else None
        cut = comma or phrase or word_end
        if cut is None or not _speakable(self._buffer[:cut]):
            return None
        clause, self._buffer = self._buffer[:cut].strip(), self._buffer[cut:]
        self._emitted = True  # _first_rules stays: the clause after an early cut is short too
        return clause

    def push(self, delta: str) -> list[str]:
        self._buffer += delta
        # Every cut needs whitespace after it: without new whitespace, nothing new can end.
        if not any(c.isspace() for c in delta):
            return []
        return self._take_complete()

    def flush(self) -> list[str]:
        clauses = self._take_complete()
        rest = self._buffer.strip()
        if _speakable(rest):
            clauses.append(rest)
        self.reset()
        return clauses

    def reset(self) -> None:
        """Drops what was buffered (the reply was interrupted)."""
        self._buffer = ""
        self._emitted = False
        self._first_rules = True

    def _take_complete(self) -> list[str]:
        clauses = []
        while (cut := self._first_cut()) is not None:
            clauses.append(self._buffer[:cut].strip())
            self._buffer = self._buffer[cut:]
            self._emitted = True
            self._first_rules = False
        return clauses

    def _first_cut(self) -> int | None:
        """End of the first complete clause in the buffer, or None while it is not complete."""
        buffer = self._buffer
        limit = self._word_limit_cut(buffer)
        for match in _CANDIDATE.finditer(buffer):
            if limit is not None and match.start() >= limit:
                break
            end = match.end()
            if match.group() == "\n":
                cut = match.start()
            elif end == len(buffer):
                break  # the next character decides ("3." then "5"): wait for it
            elif not buffer[end].isspace() or not self._cuts_at(match.group(), buffer[:match.start()], end):
                continue
            else:
                cut = end
            if _speakable(buffer[:cut]):
                return cut
        return limit if limit is not None and _speakable(buffer[:limit]) else None

    def _cuts_at(self, punctuation: str, text_before: str, end: int) -> bool:
        mark = punctuation[0]
        if mark == ",":
            needed = self.first_comma_words if self._first_rules else self.comma_words
            return len(self._buffer[:end].split()) >= needed
        if punctuation.rstrip(_CLOSERS) == ".":
            return _period_ends_sentence(text_before)
        return True  # ! ? … ... ; :

    def _word_limit_cut(self, buffer: str) -> int | None:
        first = self._first_rules
        limit = self.first_max_words if first else self.max_words
        for count, match in enumerate(_COMPLETE_WORD.finditer(buffer), start=1):
            if first and count > self.first_phrase_words and match.group().lower() in PHRASE_STARTERS:
                return match.start()
            if count >= limit:
                return match.end()
        return None
