"""Caller turns the turn-taking model is trained on, built from parts at a fixed seed.

None of these sentences, nor any half of them, is in the benchmark (bench/scenarios.py,
bench/questions.py): tests/training/test_turn_corpus.py fails if one is. The parts
below are written for training only; combining them gives a few thousand distinct turns.

Kinds follow the benchmark's pause kinds (what makes a pause hard to tell from the
end of a turn), so the model sees each during training, on other words:
  complete             a whole turn, no pause inside
  complete_first_half  a whole sentence, a pause, then more ("Check the gas bill. The one from June.")
  trailing_word        a pause after a preposition, conjunction or article ("I am flying to ... Denver")
  list                 a pause inside a list ("bananas, onions, ... and garlic")
  hesitation           a filler or thinking aloud, then the content ("um ... the green sofa")
  breath               a pause at a phrase boundary of a longer sentence
"""
from __future__ import annotations

import dataclasses

import numpy as np

QUESTIONS = (
    "What is the fastest way to get downtown", "How much does a monthly pass cost", "When does the museum close",
    "Is there parking near the stadium", "What is the tallest mountain in Africa", "How many grams are in a pound",
    "Who painted the ceiling of the chapel", "Which gate does my plane board from", "Can you read me my last message",
    "Why is my internet so slow today", "How do I turn off the sprinklers", "What is the exchange rate for euros",
    "Do you have any rooms for Friday", "How hot will it get on Sunday", "What is the square root of eighty one",
    "Where did I park the car", "How long does the warranty last", "Are dogs allowed on the ferry",
)
COMMANDS = (
    "Turn the kitchen lights down", "Add oat milk to my shopping list", "Start a timer for twelve minutes",
    "Text Maria that I am running late", "Skip this song", "Order a refill of my prescription",
    "Lock the front door", "Move my meeting to the afternoon", "Read the news headlines",
    "Pause the washing machine", "Open the garage", "Transfer fifty dollars to savings",
)
STATEMENTS = (
    "My parcel never arrived", "The heater in the bedroom is broken", "I was charged twice for the same thing",
    "Our train was delayed by an hour", "The printer keeps jamming", "I forgot the password for my tablet",
    "The water pressure is very low", "My son has a fever", "The screen on my phone cracked",
    "I would rather sit by the window", "The delivery driver left it outside", "My neighbour is playing loud drums",
)
# Answers to an agent's question, for evaluation only (corpus.short_answers): callers say them all
# the time, and with so few words the transcript and the speech's length say little. Not trained on:
# with them in the training turns the model answered them in ~0.6 s instead of ~1.9 s but took over
# more pauses, also when told we had just asked a question (docs/benchmarks/2026-12-05-short-answers/).
SHORT_ANSWERS = (
    "Yes, please.", "No, thank you.", "That is correct.", "Not yet.", "Tomorrow morning.", "The blue one.",
    "Two adults.", "Cancel it.", "Go ahead.", "Sounds good.", "Nope.", "Exactly.", "In the kitchen.",
    "Seven fifteen.", "By card.", "Both of them.", "Just me.", "Never mind.", "Thanks a lot.", "Which one?",
    "How much?", "Next Tuesday.", "The second option.", "Maybe later.", "Absolutely.", "No, that is all.",
    "My wife.", "Around noon.", "Thirty six.", "Yes, that one.", "I think so.", "Not really.", "Email is fine.",
    "The one in March.", "Economy.", "Same as last time.", "Please do.", "From London.", "Definitely not.",
    "Only the first one.",
)
# (first part, second part) per kind; the first part ends where the caller pauses.
SPLITS = {
    "complete_first_half": (
        ("Check the gas bill.", "The one from June."), ("Find me a hotel.", "Somewhere close to the beach."),
        ("Turn on the fan.", "The one in the study."), ("I need a plumber.", "Today if possible."),
        ("Is the gym open?", "On public holidays, I mean."), ("Cancel my subscription.", "The streaming one."),
        ("Remind me to call Dad.", "After dinner tonight."), ("What does it cost?", "For two adults and a child."),
        ("Show me the recipe.", "The vegetarian version."), ("I want a refund.", "For the broken lamp."),
    ),
    "trailing_word": (
        ("I am flying to", "Denver next week."), ("Could you put me through to", "the manager on duty?"),
        ("I paid with my card but", "it shows as pending."), ("Please send a copy to", "my lawyer."),
        ("We need a bigger car because", "the whole family is coming."), ("It is the house next to", "the old church."),
        ("I would like a seat by", "the emergency exit."), ("Can you compare it with", "last month's bill?"),
        ("I will be there around", "eight thirty."), ("The meeting is about", "the new budget."),
        ("I tried turning it off and", "on again."), ("She is allergic to", "peanuts and shellfish."),
    ),
    "list": (
        ("I need bananas, onions,", "and some garlic."), ("Invite Chloe, Mark,", "and their kids."),
        ("The colours are navy, grey,", "and cream."), ("Tuesday, Thursday,", "or maybe Saturday."),
        ("Get batteries, tape,", "and a lightbulb."), ("The numbers are three, eight,", "one, five."),
        ("Pack sunscreen, towels,", "and a frisbee."), ("I speak French, German,", "and a bit of Italian."),
        ("Buy flour, butter,", "and two lemons."), ("We saw Lisbon, Porto,", "and then Seville."),
    ),
    "hesitation": (
        ("I want the, um,", "the green sofa."), ("Let me see.", "I think the invoice number is nine."),
        ("Right, uh,", "can I change my seat?"), ("It was, hmm,", "maybe two weeks ago."),
        ("Now, er,", "is the shop open late?"), ("My date of birth is, um,", "the fifth of April."),
        ("What was the word?", "Ah, the reservation code."), ("Just a moment.", "Right, the account ends in four."),
        ("The street is called, uh,", "Maple Avenue."), ("I am thinking, um,", "probably the cheaper one."),
    ),
    "breath": (
        ("What I would like to find out", "is when my order ships."), ("The problem I have", "is with the remote."),
        ("If it is not too much trouble", "could you repeat that?"),
        ("Before we go any further", "I need to check my diary."),
        ("The last time I called", "nobody answered."), ("Whenever I open the app", "it crashes."),
        ("All I need right now", "is a glass of water."), ("According to my calendar", "the party is on Sunday."),
    ),
}
# Said over a reply; the model must not take them for a turn.
BACKCHANNELS = ("mhm", "yep", "yes", "sure", "got it", "oh really", "I see, yes", "right right")


@dataclasses.dataclass(frozen=True)
class Turn:
    kind: str
    parts: tuple[str, ...]  # one part, or two with a pause between them

    @property
    def text(self) -> str:
        return " ".join(self.parts)


PARTS = ("train", "validation", "all")


def _part(items: list, part: str) -> list:
    """Every fifth sentence is held out for validation, so validation turns are unseen words."""
    if part == "all":
        return items
    return [x for i, x in enumerate(items) if (i % 5 == 4) == (part == "validation")]


def complete_turns(part: str = "all") -> list[Turn]:
    out = [Turn("complete", (q + "?",)) for q in QUESTIONS]
    out += [Turn("complete", (c + ".",)) for c in COMMANDS]
    out += [Turn("complete", (s + ".",)) for s in STATEMENTS]
    return _part(out, part)


def short_answer_turns() -> list[Turn]:
    return [Turn("complete", (a,)) for a in SHORT_ANSWERS]


def split_turns(part: str = "all") -> list[Turn]:
    return _part([Turn(kind, pair) for kind, pairs in SPLITS.items() for pair in pairs], part)


def sample_turns(n: int, rng: np.random.Generator, part: str = "train", split_share: float = 0.5) -> list[Turn]:
    """`n` turns of `part`, about `split_share` of them with a pause inside, drawn with `rng`."""
    complete, split = complete_turns(part), split_turns(part)
    return [split[int(rng.integers(len(split)))] if rng.random() < split_share
            else complete[int(rng.integers(len(complete)))] for _ in range(n)]


def all_sentences() -> list[str]:
    """Every sentence and part a training turn is made of, for the disjointness test."""
    turns = complete_turns() + short_answer_turns() + split_turns()
    return [t.text for t in turns] + [p for t in turns for p in t.parts] + list(BACKCHANNELS)
