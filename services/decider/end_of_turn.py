"""End-of-turn estimation: how likely is it that the caller's transcript is a finished turn?

Like LiveKit's turn detector, a small chat LM reads the transcript as the last
user message of its chat template, without the closing end-of-turn token, and
we ask how likely the message ends right here. Two changes make an untuned
135M model (SmolLM2-135M-Instruct) useful for it:

- Terminal punctuation is stripped before the LM reads the text, and "ends
  here" is P(<|im_end|>) + P(".") + P("?") + P("!") as the next token. The raw
  P(<|im_end|>) is ~0 for any unpunctuated text and is dominated by the period
  Whisper also writes on cut-off speech ("I would like to book."); on words
  alone the model separates finished from unfinished turns well.
- Cues Whisper transcripts carry are added in log-odds space:

      z = B + W_LM * (clip(log10 P_end, -6, 0) + 2)
            + W_QUESTION * [ends with ? or !]
            + W_PERIOD   * [ends with a single .]
            + W_CONTINUE * [ends with , ... - or a conjunction, filler, preposition, article,
                            or a phrase that keeps the floor: "let me see", "hold on", "one moment"]
      probability = 1 / (1 + exp(-z))

The weights were set by hand on the calibration examples in
tests/decider/decider_eot_examples.py (log10 P_end is about -1 for finished
turns and -3 to -6 for unfinished ones, so -2 is the natural midpoint), and
checked on held-out examples written afterwards (tests/decider/test_decider_eot_model.py).
"""
from __future__ import annotations

import dataclasses
import math
import re
import threading
from typing import Protocol

# Logistic combination (see the module docstring).
B = 0.0
W_LM = 1.4
# 1.2 at first; raised after the benchmark (bench.run): finished questions the LM expected to go on
# ("Can you recommend a good book?" 0.39, "Why do cats purr?" 0.37) waited for the 1.8 s
# fallback. Whisper writes "?" only when the words sound like a whole question.
W_QUESTION = 2.0
W_PERIOD = 0.5
W_CONTINUE = -2.5
LM_FLOOR = -6.0

# Words a finished sentence rarely ends on (unless it is a question: "What is it for?").
CONTINUATION_WORDS = frozenset({
    # conjunctions
    "and", "but", "or", "so", "because", "cause", "if", "although", "though", "unless", "whether",
    "than", "nor", "whereas",
    # fillers
    "um", "umm", "uh", "uhm", "er", "erm",
    # prepositions that are not also verb particles ("turn it on." is finished)
    "to", "for", "with", "of", "at", "from", "about", "into", "onto", "between", "toward", "towards", "via",
    # determiners
    "the", "a", "an", "my", "your", "our", "their", "its", "every", "each",
    # contractions that open a clause
    "it's", "i'm", "let's", "we're", "they're", "you're", "there's",
})
# Phrases a caller says to keep the floor while thinking or looking something up ("Hold on, let me
# see."): what follows is the content, so the turn is not over. Callers say them to agents all the
# time; the LM scores them as finished sentences (they are), and the turn's words are still to come.
# The self-addressed questions among them ("What was it again?", "How do I put this?") ask nothing
# of the agent: their question mark is not a cue to answer.
_HOLDS_THE_FLOOR = re.compile(
    r"\b(let me (see|think|check|look|find it|find that)|let's see|hold on|hang on|bear with me|"
    r"(just|wait) a (moment|second|sec|minute)|one (moment|second|sec)|give me a (moment|second|sec|minute)|"
    r"what was it (again|called)|what's it called|what do you call it|what's the word|where was i|"
    r"how do (i|you) (put|say) (it|this|that))$")
# Trailing punctuation the LM does not see (it is scored as a cue instead).
_TRAILING = re.compile(r"[\s.,;:!?…\-–—\"')\]]+$")
_CONTINUATION_END = re.compile(r"(\.\.\.|…|,|;|:|-|–|—)\s*$")


class EndOfTurnEstimator(Protocol):
    def probability(self, text: str) -> float:
        """Probability in [0, 1] that `text` is a finished turn."""
        ...


@dataclasses.dataclass(frozen=True)
class TextCues:
    """What the punctuation and last word of a transcript say about the turn."""
    question: bool  # ends with ? or !
    period: bool  # ends with a single .
    continuation: bool  # ends with a comma, dots, a dash or a word that needs more

    @classmethod
    def of(cls, text: str) -> TextCues:
        text = text.strip().rstrip("\"')]")
        words = re.findall(r"[a-z']+", text.lower())
        last_word = words[-1] if words else ""
        holding = _HOLDS_THE_FLOOR.search(" ".join(words)) is not None
        question = text.endswith(("?", "!")) and not holding
        dotted = _CONTINUATION_END.search(text) is not None
        period = text.endswith(".") and not dotted
        continuation = dotted or holding or (not question and last_word in CONTINUATION_WORDS)
        return cls(question=question, period=period, continuation=continuation)


def lm_text(text: str) -> str:
    """The transcript as the LM reads it: trailing punctuation removed."""
    return _TRAILING.sub("", text.strip())


def combine(log10_p_end: float, cues: TextCues) -> float:
    """Probability of a finished turn from the LM's log10 P(ends here) and the text cues."""
    z = (B + W_LM * (max(LM_FLOOR, min(0.0, log10_p_end)) + 2.0)
         + W_QUESTION * cues.question + W_PERIOD * cues.period + W_CONTINUE * cues.continuation)
    return 1.0 / (1.0 + math.exp(-z))


class LlamaEndOfTurnEstimator:
    """EndOfTurnEstimator on a GGUF chat model run by llama.cpp (one thread, small context).

    The chat prefix stays in the KV cache and consecutive transcripts usually
    extend each other ("I would like" -> "I would like to book"), so only the
    tokens after the common prefix are evaluated. A llama.cpp context serves
    one call at a time: calls are serialised by a lock.
    """

    # Older words matter little for whether the turn ends now, and each token costs ~5.5 ms
    # on one core: the LM reads a window of 16-24 tokens whose start moves in steps of 8,
    # so a growing transcript keeps reusing the cached window.
    MAX_TEXT_TOKENS = 24
    WINDOW_STEP = 8

    def __init__(self, model_file: str, threads: int = 1, context_tokens: int = 256):
        from llama_cpp import Llama  # heavy import, only where the model is used

        self._llm = Llama(model_path=str(model_file), n_ctx=context_tokens, n_threads=threads,
                          n_threads_batch=threads, n_batch=context_tokens, logits_all=False, verbose=False)
        self._lock = threading.Lock()
        prefix, eot_token_text = self._chat_prefix()
        self._prefix = self._llm.tokenize(prefix.encode(), add_bos=False, special=True)
        eot = self._llm.tokenize(eot_token_text.encode(), add_bos=False, special=True)
        if len(eot) != 1:
            raise ValueError(f"end-of-turn marker {eot_token_text!r} is not a single token in {model_file}")
        self._end_ids = [eot[0]] + [self._single_token(p) for p in (".", "?", "!")]
        self._llm.eval(self._prefix)
        self._cached: list[int] = []  # text tokens in the KV cache after the prefix
        self._last: tuple[str, float] | None = None

    @classmethod
    def from_settings(cls, settings) -> LlamaEndOfTurnEstimator:
        from soundloop.models import model_path

        return cls(str(model_path(settings.decider.eot_model, "model.gguf")))

    def _single_token(self, piece: str) -> int:
        ids = self._llm.tokenize(piece.encode(), add_bos=False)
        if len(ids) != 1:
            raise ValueError(f"{piece!r} is not a single token")
        return ids[0]

    def _chat_prefix(self) -> tuple[str, str]:
        """The chat template rendered up to the user's words, and the token that closes them."""
        import jinja2

        template = self._llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise ValueError("the end-of-turn model has no chat template")
        marker = "\x00USER\x00"
        rendered = jinja2.Environment().from_string(template).render(
            messages=[{"role": "user", "content": marker}], add_generation_prompt=False,
            bos_token="", eos_token="")
        prefix, _, closing = rendered.partition(marker)
        eot_text = re.match(r"\s*(<[^>]+>)", closing)
        if not eot_text:
            raise ValueError(f"cannot find the end-of-turn token after the user message in {closing!r}")
        return prefix, eot_text.group(1)

    def log10_p_end(self, text: str) -> float:
        """log10 of the LM's probability that the (stripped) user message ends after `text`."""
        with self._lock:
            if self._last and self._last[0] == text:
                return self._last[1]
            value = self._score(text)
            self._last = (text, value)
            return value

    def _score(self, text: str) -> float:
        import llama_cpp
        import numpy as np

        tokens = self._llm.tokenize(text.encode(), add_bos=False)
        excess = len(tokens) - self.MAX_TEXT_TOKENS
        if excess > 0:
            start = math.ceil(excess / self.WINDOW_STEP) * self.WINDOW_STEP
            tokens = tokens[start:]
        common = 0
        for a, b in zip(self._cached, tokens, strict=False):
            if a != b:
                break
            common += 1
        common = min(common, len(tokens) - 1)  # at least one token must run to get logits
        self._cached = []  # unknown until eval succeeds
        self._llm.n_tokens = len(self._prefix) + common
        self._llm.eval(tokens[common:])
        self._cached = tokens
        n_vocab = self._llm.n_vocab()
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self._llm.ctx, -1), shape=(n_vocab,))
        logits = logits.astype(np.float64)
        top = logits.max()
        log_norm = top + math.log(np.exp(logits - top).sum())
        p_end = float(np.exp(logits[self._end_ids] - log_norm).sum())
        return math.log10(max(p_end, 1e-12))

    def prefetch(self, text: str) -> None:
        """Scores a partial transcript ahead of time: the final one usually extends it,
        and then only its new tokens have to run."""
        stripped = lm_text(text)
        if re.search(r"\w", stripped):
            self.log10_p_end(stripped)

    def probability(self, text: str) -> float:
        stripped = lm_text(text)
        if not re.search(r"\w", stripped):
            return 0.0
        return combine(self.log10_p_end(stripped), TextCues.of(text))
