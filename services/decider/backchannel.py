"""What words heard over a reply mean: backchannels (the "mm-hm", "yeah", "I see" a listener says
over a speaker), and words too weak to cut the reply off (one word, or two without content).

ASR spells them many ways ("Mm-hmm.", "mhm", "Uh huh.", "Mmm.", "Yeah, yeah."; Moonshine
spells a flat "mm-hmm" out as letters, "M. M. H. M."), so both sides are normalised:
lower case, punctuation and hyphens to spaces, letters spelled one by one joined into
a word, and runs of one letter collapsed ("mmm" -> "m", "hmmm" -> "hm"). A transcript is a
backchannel when it is made only of backchannel phrases, and is short.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

_PHRASES = (
    "mm", "mm-hm", "mm-hmm", "mhm", "hm", "hmm", "uh-huh", "uh huh", "huh", "um", "uh", "ah", "oh",
    "yeah", "yes", "yep", "yup", "yah", "ya", "right", "okay", "ok", "o.k.", "sure", "alright", "all right",
    "i see", "got it", "gotcha", "cool", "nice", "great", "wow", "true", "exactly", "indeed", "totally",
    "of course", "makes sense", "that makes sense", "uh-hm", "aha", "ahh", "oh okay",
    # Moonshine writes some as letter names: "I. C." is "I see" (normalised to "ic", like "M. H. M." to "mhm").
    "I. C.",
)
# A listener's acknowledgement is a few words; anything longer is a turn of its own.
MAX_WORDS = 5
_MAX_PHRASE_WORDS = 3


def _normalise(text: str) -> list[str]:
    text = text.lower().replace("’", "'")
    text = " ".join(re.sub(r"[^a-z' ]+", " ", text).split())  # punctuation, hyphens, digits
    text = re.sub(r"\b[a-z](?: [a-z]\b)+", lambda m: m.group().replace(" ", ""), text)  # "m h m" -> "mhm"
    words = [re.sub(r"(.)\1+", r"\1", w.strip("'")) for w in text.split()]
    return [w for w in words if w]


_KNOWN: frozenset[tuple[str, ...]] = frozenset(tuple(_normalise(p)) for p in _PHRASES)


def words(text: str) -> list[str]:
    """The normalised words of a transcript."""
    return _normalise(text)


_PREFIXES: frozenset[tuple[str, ...]] = frozenset(p[:n] for p in _KNOWN for n in range(1, len(p)))


def _parse(tokens: list[str]) -> int:
    """How many leading tokens are a sequence of backchannel phrases (longest phrase first)."""
    i = 0
    while i < len(tokens):
        for n in range(min(_MAX_PHRASE_WORDS, len(tokens) - i), 0, -1):
            if tuple(tokens[i:i + n]) in _KNOWN:
                i += n
                break
        else:
            return i
    return i


# How callers address an agent, after an acknowledgement ("Yes, sir.", "Okay, ma'am."): part of it.
_ADDRESS: frozenset[str] = frozenset(w for term in ("sir", "ma'am", "madam", "mam") for w in _normalise(term))


def is_backchannel(text: str) -> bool:
    """True when `text` is only acknowledgement phrases ("Mm-hmm.", "Yeah, I see.", "Yes, sir.")."""
    tokens = _normalise(text)
    if not 0 < len(tokens) <= MAX_WORDS:
        return False
    tokens = [t for i, t in enumerate(tokens) if i == 0 or t not in _ADDRESS]
    return _parse(tokens) == len(tokens)


def may_become_backchannel(text: str) -> bool:
    """True for a backchannel, or for a partial transcript that could still end as one ("I" of "I see")."""
    tokens = _normalise(text)
    if not 0 < len(tokens) <= MAX_WORDS:
        return False
    done = _parse(tokens)
    return done == len(tokens) or tuple(tokens[done:]) in _PREFIXES


# One word over a reply stops it only when it is a cue to stop or to be heard, or a question. A
# recogniser hears hums and coughs as words ("mm-hm" -> "Literally.", "uh-huh" -> "Better." with
# Moonshine tiny), and a caller who means to take the turn with any other word says more than one
# (Pipecat and LiveKit ask for a minimum number of words for every interruption, which loses "Stop.").
_INTERRUPTION_CUES = (
    "stop", "wait", "hold", "hang", "pause", "quiet", "shh", "hush", "enough", "silence", "no", "nope", "nah",
    "not", "don't", "cancel", "nevermind", "sorry", "pardon", "excuse", "what", "why", "how", "who", "where",
    "when", "which", "hey", "hello", "help", "operator", "agent", "human", "representative", "repeat", "again",
    "actually", "but", "listen", "look", "slower", "louder", "skip", "next", "please",
)
_CUES: frozenset[str] = frozenset(w for cue in _INTERRUPTION_CUES for w in _normalise(cue))
# Two words are weak too when neither carries content: personal pronouns, auxiliaries and laughter, or a
# discourse marker. Moonshine base and tiny hear hums as such pairs ("You do.", "He, he.", "You know."),
# and a caller who says only them over a reply ("I do.", "You know.") is listening, not taking the turn.
# Demonstratives ("That's it.", "This one.") point at something, so they are not in the list.
_CONTENTLESS_WORDS = (
    "i", "me", "my", "you", "your", "he", "him", "his", "she", "her", "it", "its", "we", "us", "our", "they",
    "them", "their", "i'm", "you're", "he's", "she's", "it's", "we're", "they're", "i've", "you've", "i'd",
    "do", "does", "did", "is", "are", "was", "were", "be", "am", "have", "has", "had", "can", "could", "will",
    "would", "ha", "haha", "heh", "hehe", "hah", "ho",
)
_CONTENTLESS: frozenset[str] = frozenset(w for word in _CONTENTLESS_WORDS for w in _normalise(word))
_DISCOURSE_MARKERS: frozenset[tuple[str, ...]] = frozenset(
    tuple(_normalise(m)) for m in ("you know", "i mean", "i guess", "you see", "me too"))
MAX_WEAK_WORDS = 2


def too_weak_to_interrupt(text: str, names: Sequence[str] = ()) -> bool:
    """True for words that alone do not stop a reply: one word, or two without content ("You do.", "You
    know."), none of them a cue to stop or be heard ("Wait.", "Sorry", a word of one of the assistant's
    `names`), and not a question. Over a reply they may be the recogniser's guess at a hum or a cough."""
    tokens = _normalise(text)
    if not 0 < len(tokens) <= MAX_WEAK_WORDS or text.rstrip().endswith("?"):
        return False
    named = {w for name in names for w in _normalise(name)}
    if any(t in _CUES or t in named for t in tokens):
        return False
    return len(tokens) == 1 or all(t in _CONTENTLESS for t in tokens) or tuple(tokens) in _DISCOURSE_MARKERS
