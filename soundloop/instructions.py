"""Instructions that change what soundloop answers: response modes and reply length.

"Just transcribe from now on", "stay quiet until I say Ada", "you can talk again",
"answer in one sentence" are session behaviour, not something to leave to the LLM:
the decider reads them from every finished turn (spoken or typed) and the gateway
from the session's `instructions`, with the same rules, so the switch happens
whatever model answers.

The rules are phrase patterns over one sentence at a time, in imperative form
("stay quiet", "can you stay quiet", "please just listen and don't answer"), so a
turn that only talks about quiet ("my kids won't stay quiet") changes nothing. A
sentence that is an instruction is not content; what is left over decides whether
the turn also asks something (answered under the new policy) or was only the
instruction (confirmed, not answered).

Not understood: instructions in other languages, negated or conditional ones
("don't just transcribe"), and a direct question meant for someone else in the room
(quiet mode answers it).
"""
from __future__ import annotations

import dataclasses
import functools
import re

from soundloop.decider.v1 import decider_pb2
from soundloop.v1 import interaction_pb2 as pb

DEFAULT_WAKE_PHRASE = "assistant"
MAX_SENTENCES_LIMIT = 20

_NUMBERS = {"one": 1, "a single": 1, "a": 1, "1": 1, "two": 2, "2": 2, "three": 3, "3": 3, "four": 4, "4": 4,
            "five": 5, "5": 5}
_NUMBER = r"(?P<n>one|a single|two|three|four|five|[1-5])"

# What may come before an imperative: politeness, fillers, "can you", "I want you to", "from now on".
_LEAD = (r"^(?:(?:ok(?:ay)?|so|now|and|please|alright|all right|well|hey|hi|oh|um|uh|right|actually|"
         r"from now on|for now|for the rest of the call)\b[, ]*)*"
         r"(?:(?:can|could|would|will) you (?:please )?|i (?:want|need|would like) you to |i'd like you to |"
         r"you should |you can |please |just |only )*")
_NOT = r"(?:don't|do not|dont|never)"
_SPEAK = r"(?:answer|reply|respond|talk|speak|say anything|interrupt|chime in)"
_CALLER = r"(?:i|the caller|the user|someone|they)"

# Recognizers hear "transcribe" as "transcribed" and "stay quiet" as "say quiet": the endings and the
# leading "st" are the parts a recognizer most often gets wrong, and the imperative frame still holds.
_TRANSCRIBE = [
    rf"{_LEAD}(?:transcrib(?:e|ed|es|ing)|take dictation)\b",
    rf"{_LEAD}(?<=just |only )(?:take notes|write (?:down )?(?:what|everything))",
    rf"{_LEAD}(?:start|begin|switch to|go to|use) (?:transcribing|transcription|dictation|taking notes)",
    r"\b(?:transcription|transcribe|dictation|transcribe[- ]only) mode\b",
    rf"{_LEAD}{_NOT} {_SPEAK}\b.*\b(?:just|only) (?:transcribe|take notes|write)",
]
_QUIET = [
    rf"{_LEAD}(?:stay|say|be|keep|remain|go) (?:quiet|silent)\b",
    rf"{_LEAD}(?:just )?listen\b.*\b(?:until|unless|till) {_CALLER} (?:ask|asks|say|says|call|calls)\b",
    rf"{_LEAD}(?:shut up|hush)\b",
    rf"{_LEAD}{_NOT} {_SPEAK}(?: to me| anything| back)? (?:until|unless|till|before)\b",
    rf"{_LEAD}(?:just )?listen(?: to me)?,? (?:and|but|without) (?:{_NOT} )?(?:answer|reply|respond|talk|say)",
    rf"{_LEAD}(?:just )?listen (?:quietly|silently)",
    rf"{_LEAD}(?:only )?(?:answer|reply|respond|speak|talk)(?: only)? (?:when|if|once) {_CALLER} "
    r"(?:ask|asks|say|says|call|calls|address|addresses|talk to you|speak to you)",
    rf"{_LEAD}{_NOT} {_SPEAK}(?: to me| anything)?(?: for now| from now on| for a while)?$",
]
_SOUNDS = [
    rf"{_LEAD}(?:only )?(?:speak up|react|respond|answer|talk|alert me|tell me|warn me|say something)(?: only)? "
    r"(?:to|for|when|if|about|on) (?:you hear )?(?:a |an |any )?(?:sounds?|alarms?|noises?|emergenc)",
    rf"{_LEAD}(?:just )?listen (?:out )?for (?:sounds|alarms|noises)",
    r"\bsounds?[- ]only\b",
]
_CONVERSE = [
    rf"{_LEAD}(?:you can |you may |feel free to |go ahead and |it's okay to |it's ok to )?"
    r"(?:talk|speak|answer|reply|respond|chat)(?: to me| me)? (?:again|now|normally|as usual|as before)",
    rf"{_LEAD}(?:start|begin|resume) (?:talking|answering|replying|responding|speaking|the conversation|"
    r"conversation|chatting)",
    rf"{_LEAD}(?:back to|switch to|return to|go back to|switch back to) (?:normal|conversation|talking|"
    r"chatting|answering)",
    rf"{_LEAD}stop (?:transcribing|taking notes|being quiet|being silent|dictation|listening only)",
    r"\b(?:conversation|chat|normal) mode\b",
    rf"{_LEAD}(?:let's|let us) (?:talk|chat|have a conversation)",
]
_LENGTH = [
    rf"\banswer(?:ing)?,? (?:in )?(?:just |only |exactly )?{_NUMBER} (?:short |brief )?sentences?",
    rf"\bin (?:just |only |exactly )?{_NUMBER} (?:short |brief )?sentences?(?=,|$)",
    r"\b(?:answer|reply|respond|keep|say|tell|explain|summari[sz]e|describe|give|limit|use|write|talk|speak)"
    rf"\b[^.?!]{{0,30}}?\b(?:in|to|with|using|within|under|at most|no more than) "
    rf"(?:just |only |exactly |at most |no more than |a maximum of |max )?{_NUMBER} (?:short |brief )?sentences?",
    rf"^(?:(?:ok(?:ay)?|so|now|and|please|from now on)[, ]*)*(?:in|with) (?:just |only |exactly )?{_NUMBER} "
    r"(?:short |brief )?sentences?",
    rf"\b{_NUMBER}[- ]sentence (?:answers?|replies|reply|responses?)",
]
_UNLIMITED = [
    r"\b(?:answer|reply|respond|talk|speak|go|explain)\b[^.?!]{0,20}?\b(?:at length|in (?:more |full )?detail|"
    r"longer|as long as)",
    r"\bno (?:length |sentence )?limit\b",
    r"\blonger (?:answers|replies|responses)\b",
]
# The instruction holds from now on, rather than for the reply to this turn.
_LASTING = re.compile(r"\b(?:always|from now on|for the rest|every (?:answer|reply|time)|all (?:your )?(?:answers|"
                      r"replies)|your (?:answers|replies|responses)|keep (?:your )?(?:answers|replies)|whenever|"
                      r"each (?:answer|reply|time)|any (?:answer|reply)|answers|replies|responses)\b")
# Wake phrases: "until I say Ada", "unless I call you Max", "when you hear the word computer".
_WAKE = re.compile(r"\b(?:until|unless|till|when|once|if|before) (?:i|the caller|the user|someone|you hear(?: me)?)"
                   r"(?: (?:say|says|call you|calls you|use|uses|address you as|call|saying))?"
                   r"(?: (?:the )?(?:word|name|phrase|wake word))? [\"'“]?(?P<wake>[a-z][a-z' -]{0,30}?)[\"'”]?"
                   r"(?=[.!?,;]|$| again| to | or | and )")
_NOT_WAKE = frozenset({"so", "something", "anything", "otherwise", "it", "that", "ask", "asks", "question",
                       "a question", "go", "you can", "you may", "talk", "speak", "ready", "done", "finish",
                       "finished", "stop", "you", "me", "to", "my name", "your name", "need you"})
_QUESTION_START = re.compile(
    r"^(?:(?:and|so|ok(?:ay)?|now|well|hey|please|um|uh)[, ]+)*(?:what|what's|when|where|who|whom|whose|which|why|"
    r"how|can you|could you|would you|will you|do you|did you|are you|have you|is there|are there|is it|is that|"
    r"is my|are my|tell me|remind me|give me|read me|repeat|please tell|do i|did i|have i|am i|should i|can i)\b")

_MODE_RULES = ((pb.RESPONSE_MODE_TRANSCRIBE_ONLY, _TRANSCRIBE), (pb.RESPONSE_MODE_QUIET_UNTIL_ADDRESSED, _QUIET),
               (pb.RESPONSE_MODE_SOUNDS_ONLY, _SOUNDS), (pb.RESPONSE_MODE_CONVERSE, _CONVERSE))
# Words around a length instruction that say nothing more ("From now on, please keep ... again").
_FILLER = frozenset("""from now on please okay ok so and always just only for the rest of this call your my answers
    replies responses answer reply can you i want need would like to keep it them be again then here that all every
    each time give me use with""".split())
_SILENT_MODES = (pb.RESPONSE_MODE_TRANSCRIBE_ONLY, pb.RESPONSE_MODE_SOUNDS_ONLY)
MODE_NAMES = {pb.RESPONSE_MODE_CONVERSE: "converse", pb.RESPONSE_MODE_TRANSCRIBE_ONLY: "transcribe only",
              pb.RESPONSE_MODE_QUIET_UNTIL_ADDRESSED: "quiet until addressed",
              pb.RESPONSE_MODE_SOUNDS_ONLY: "sounds only"}


@dataclasses.dataclass(frozen=True)
class Instruction:
    """What one turn (or the session's instructions) asks of the response policy."""
    mode: int | None = None  # pb.ResponseMode asked for
    wake_phrases: tuple[str, ...] = ()  # with QUIET_UNTIL_ADDRESSED: what addresses the assistant
    max_sentences: int | None = None  # a length limit asked for (0: no limit)
    lasting: bool = False  # the length limit holds from now on, not only for this turn's reply
    has_content: bool = False  # the turn says or asks something besides the instruction
    # ... after its mode instruction: dictation before "you can talk again" is not a question
    content_after: bool = False

    @property
    def changes_policy(self) -> bool:
        return self.mode is not None or (self.max_sentences is not None and self.lasting)

    def applied_to(self, policy: pb.ResponsePolicy) -> pb.ResponsePolicy:
        """The policy in force after this instruction."""
        out = pb.ResponsePolicy()
        out.CopyFrom(policy)
        if self.mode is not None:
            out.mode = self.mode
            if self.mode == pb.RESPONSE_MODE_QUIET_UNTIL_ADDRESSED and self.wake_phrases:
                out.wake_phrases[:] = self.wake_phrases
        if self.max_sentences is not None and self.lasting:
            out.max_sentences = self.max_sentences
        return out


def normalize(text: str) -> str:
    text = text.lower().replace("’", "'").replace("‘", "'")
    return " ".join(text.split())


_QUOTES = "\"'“”‘’"


def sentences(text: str) -> list[str]:
    """`text` split after . ! ? (the mark kept, quotes around it dropped: recognizers sometimes
    quote what was said), lower-cased, whitespace collapsed."""
    split = re.split(r"(?<=[.!?])[" + _QUOTES + r"]*\s+", normalize(text))
    return [s.strip(_QUOTES) for s in split if s.strip(" .!?," + _QUOTES)]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text)


@functools.lru_cache(maxsize=256)  # the gateway asks per chunk while a quiet turn's text stands still
def parse(text: str) -> Instruction | None:
    """The instruction in `text`, or None when it has none."""
    mode, wake, max_sentences, lasting, content = None, (), None, False, False
    content_after = False  # content after the last mode instruction
    for sentence in sentences(text):
        bare = sentence.strip(" .!?" + _QUOTES)
        found = _mode_of(bare)
        if found is not None:
            # "Only transcribe. Do not reply." : the "do not reply" belongs to the transcribing.
            if not (found == pb.RESPONSE_MODE_QUIET_UNTIL_ADDRESSED and mode in _SILENT_MODES):
                mode, content_after = found, False
            if found == pb.RESPONSE_MODE_QUIET_UNTIL_ADDRESSED:
                wake = _wake_phrases(bare) or wake
            continue
        length, rest = _length_of(bare)
        if length is not None:
            max_sentences, lasting = length, lasting or bool(_LASTING.search(bare))
            said = len([w for w in _words(rest) if w not in _FILLER]) >= 2
            content, content_after = content or said, content_after or said
            continue
        said = len(_words(bare)) >= 1
        content, content_after = content or said, content_after or said
    if mode is None and max_sentences is None:
        return None
    # A length instruction on its own ("Answer in one sentence from now on.") is meant to last.
    lasting = lasting or (max_sentences is not None and not content)
    return Instruction(mode, wake, max_sentences, lasting, content, content_after if mode is not None else content)


def _mode_of(sentence: str) -> int | None:
    for mode, patterns in _MODE_RULES:
        if any(re.search(p, sentence) for p in patterns):
            return mode
    return None


def _length_of(sentence: str) -> tuple[int | None, str]:
    """(the sentence limit asked for, the sentence without the instruction), or (None, sentence)."""
    for pattern in _LENGTH:
        if m := re.search(pattern, sentence):
            return _NUMBERS[m.group("n")], sentence[:m.start()] + sentence[m.end():]
    for pattern in _UNLIMITED:
        if m := re.search(pattern, sentence):
            return 0, sentence[:m.start()] + sentence[m.end():]
    return None, sentence


def _wake_phrases(sentence: str) -> tuple[str, ...]:
    m = _WAKE.search(sentence)
    if m is None:
        return ()
    phrase = " ".join(_words(m.group("wake")))
    if not phrase or phrase in _NOT_WAKE or len(phrase.split()) > 3 or phrase.split()[0] in _NOT_WAKE:
        return ()
    return (phrase,)


def in_force(state: decider_pb2.DeciderState, initial: pb.ResponsePolicy) -> pb.ResponsePolicy:
    """The session's response policy now: the decider state's once an instruction changed it, else the
    policy it started with. The decider and the gateway both read it from the same state."""
    return state.response if state.HasField("response") else initial


def answers_turn(policy: pb.ResponsePolicy, text: str, typed: bool) -> bool:
    """Whether the mode answers a finished turn saying `text` (a typed message is addressed by nature)."""
    mode = policy.mode or pb.RESPONSE_MODE_CONVERSE
    if mode == pb.RESPONSE_MODE_QUIET_UNTIL_ADDRESSED:
        return typed or addressed(text, policy.wake_phrases)
    return mode == pb.RESPONSE_MODE_CONVERSE


def session_response(policy: pb.ResponsePolicy, session_instructions: str) -> pb.ResponsePolicy:
    """The session's starting policy: the fields the caller set, the others as its instructions say
    ("Only transcribe.", "Always answer in one sentence."; a limit there holds for every reply)."""
    out = pb.ResponsePolicy()
    out.CopyFrom(policy)
    said = parse(session_instructions)
    if said is None:
        return out
    if not policy.mode and said.mode is not None:
        out.mode = said.mode
        if said.mode == pb.RESPONSE_MODE_QUIET_UNTIL_ADDRESSED and not policy.wake_phrases:
            out.wake_phrases[:] = said.wake_phrases
    if not policy.max_sentences and said.max_sentences:
        out.max_sentences = said.max_sentences
    return out


def addressed(text: str, wake_phrases) -> bool:
    """The turn speaks to the assistant: it says a wake phrase, or it is a direct question or request."""
    said = " " + " ".join(_words(normalize(text))) + " "
    phrases = [p for p in wake_phrases if p.strip()] or [DEFAULT_WAKE_PHRASE]
    if any(f" {' '.join(_words(normalize(p)))} " in said for p in phrases):
        return True
    return any(s.endswith("?") or _QUESTION_START.search(s) for s in sentences(text))


_CALLING = frozenset({"hey", "hi", "hello", "ok", "okay", "um", "uh", "so"})


def only_wake_phrase(text: str, wake_phrases) -> bool:
    """The turn is the wake phrase alone ("Computer." before a pause, then the request)."""
    words = [w for w in _words(normalize(text)) if w not in _CALLING]
    phrases = [p for p in wake_phrases if p.strip()] or [DEFAULT_WAKE_PHRASE]
    return bool(words) and any(words == [w for w in _words(normalize(p)) if w not in _CALLING] for p in phrases)


def describe(policy: pb.ResponsePolicy) -> str:
    """The policy in a few words, for decision reasons and logs."""
    mode = policy.mode or pb.RESPONSE_MODE_CONVERSE
    words = MODE_NAMES[mode]
    if mode == pb.RESPONSE_MODE_QUIET_UNTIL_ADDRESSED:
        words += " (" + ", ".join(repr(p) for p in policy.wake_phrases or [DEFAULT_WAKE_PHRASE]) + " or a question)"
    if policy.max_sentences:
        words += f", at most {policy.max_sentences} sentence{'s' if policy.max_sentences > 1 else ''}"
    return words


_COUNT_WORDS = {1: "one sentence", 2: "two sentences", 3: "three sentences", 4: "four sentences",
                5: "five sentences"}


def confirmation(before: pb.ResponsePolicy, after: pb.ResponsePolicy) -> str:
    """What to say to confirm a change, or "" when saying anything would break the new mode itself
    (transcribe-only and quiet mean silence; the ModeChanged event confirms them to the app)."""
    mode = after.mode or pb.RESPONSE_MODE_CONVERSE
    if mode in (pb.RESPONSE_MODE_TRANSCRIBE_ONLY, pb.RESPONSE_MODE_QUIET_UNTIL_ADDRESSED):
        return ""
    parts = []
    if mode != (before.mode or pb.RESPONSE_MODE_CONVERSE):
        parts.append("Okay, I'm listening." if mode == pb.RESPONSE_MODE_CONVERSE
                     else "Okay, I'll only speak up when I hear a sound like an alarm.")
    if after.max_sentences != before.max_sentences:
        parts.append(f"Okay, I'll keep my answers to {_COUNT_WORDS.get(after.max_sentences, 'a few sentences')}."
                     if after.max_sentences else "Okay, I'll answer at whatever length it takes.")
    return " ".join(parts)
