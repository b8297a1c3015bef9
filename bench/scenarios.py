"""The conversation corpus: caller timelines with labelled expectations.

Categories follow Full-Duplex-Bench and the Audio Interaction paper's
Proactive-Sound-Bench (see ../shared/notes/field.md):

  pause         the caller pauses mid-utterance (300-1500 ms): no reply before they finish
  turn_taking   the caller finishes a question or statement: reply, fast
  backchannel   "mm-hm" over the reply: keep speaking
  interruption  new content over the reply: stop, then answer the new content
  short_interruption  one to three words over the reply ("Wait.", "Stop."): stop
  sound         a real sound of the bank (bench/sound_bank.py, six domains): an alarm, phone,
                siren, doorbell, breaking glass, scream (respond) or an everyday sound (ignore),
                alone, in noise at 20/10/5 dB, under the caller's speech, or during a reply
  instruction   a typed (session instructions or a text message) or spoken instruction changes
                what the system does: one sentence only, only transcribe, stay silent until
                asked (or named), talk again
  offline       transcribe a file; answer about a clip

`build(seed)` makes the same corpus for the same seed: every random choice comes
from numpy Generators seeded from it, and the audio sources are deterministic.
"""
from __future__ import annotations

import dataclasses
import json
import pathlib

import numpy as np

from bench import sound_bank, sources
from bench.sources import RATE, silence, speak

LEAD_S = 0.4
STORYTELLER = ("You are a storyteller. Answer every question with a long story of at least eight sentences. "
               "Never stop early.")
SNRS = (None, None, 20.0, 10.0, 5.0)  # None: clean

QUESTIONS = (
    "What is the capital of France?", "How many days are in a week?", "Can you tell me a short joke?",
    "What time does the bank usually open?", "What color is the sky on a clear day?",
    "How do I reset my password?", "What is two plus three?", "Which planet is closest to the sun?",
    "Can you recommend a good book?", "How many legs does a spider have?", "Where can I find my account number?",
    "What is the opposite of hot?", "How long should I boil an egg?", "What is the largest ocean on Earth?",
    "Why do cats purr?", "How far away is the moon?", "Can I change my delivery address?",
    "How many minutes are in an hour?", "What is a good name for a dog?", "When does the next train leave?",
)
# A turn said in two parts with a pause in between, by what makes the pause hard to tell from
# the end of the turn (issue 9): a first half that is a whole sentence on its own, a trailing
# preposition or conjunction, list intonation, a hesitation. Turn-taking models are judged on
# these; the training corpus (training/turn_taking/) uses other sentences (a test checks).
PAUSE_TURNS = {
    "breath": (
        ("I would like to know", "what the capital of France is."), ("Can you tell me", "how many days are in a week?"),
        ("So my question is", "which planet is closest to the sun?"),
        ("I was wondering if", "you could tell me a joke."),
        ("The thing is, my password", "does not work any more."), ("Could you please check", "when the bank opens?"),
        ("What I really need is", "a good book to read."), ("Tell me, if you can,", "how far away the moon is."),
        ("My order number is", "four five six seven."), ("And after that I need", "to change my delivery address."),
        ("The reason I am calling is", "my card was declined."), ("What I want to ask is", "how long the drive takes."),
    ),
    "complete_first_half": (
        ("Can you check my balance?", "On the savings account, I mean."), ("I need a taxi.", "To the airport, at six."),
        ("Book me a table.", "For four people, tomorrow night."),
        ("What is the weather like?", "In Madrid, this weekend."),
        ("I want to cancel my order.", "The one from last Tuesday."), ("Call my sister.", "On her work number."),
        ("Set an alarm.", "For seven in the morning."), ("Is the pharmacy open?", "The one on Main Street."),
        ("I lost my keys.", "Somewhere in the park, I think."), ("Play some music.", "Something calm, like jazz."),
        ("Send the report.", "To the whole team, please."), ("How much is a ticket?", "A return ticket to Leeds."),
    ),
    "trailing_word": (
        ("I need a table for", "four people tonight."), ("I want to cancel my order and", "get a refund."),
        ("Could you send the letter to", "my new address?"), ("I was going to pay but", "the page froze."),
        ("Can I speak with", "someone in billing?"), ("My flight leaves at", "half past nine."),
        ("I would like a room with", "a view of the sea."), ("The package was left at", "the wrong door."),
        ("I moved here because", "of my new job."), ("Please remind me about", "the dentist tomorrow."),
        ("We are looking for a house near", "a good school."), ("It stopped working after", "the last update."),
    ),
    "list": (
        ("I need eggs, milk,", "and a loaf of bread."), ("We have red, green,", "and yellow peppers."),
        ("Monday, Wednesday,", "and Friday work for me."), ("Add apples, rice,", "and a bag of coffee."),
        ("The kids want pizza, pasta,", "or maybe tacos."), ("Pack a coat, a hat,", "and warm boots."),
        ("Call Anna, Tom,", "and my brother Luke."), ("My address is twelve Oak Road,", "Springfield, Ohio."),
        ("The code is four, nine,", "two, seven."), ("I visited Rome, Paris,", "and then Vienna."),
        ("Bring plates, cups,", "and some napkins."), ("I play piano, guitar,", "and a little violin."),
    ),
    "hesitation": (
        ("I want to, um,", "book a flight to Boston."), ("Let me think.", "I would like the blue one."),
        ("So, uh,", "how do I reset the router?"), ("It is, hmm,", "about my last bill."),
        ("Well, er,", "can you move my appointment?"), ("I think it was, um,", "on the third of May."),
        ("What was it again?", "Oh right, the tracking number."), ("Hold on, let me see.", "It says error forty two."),
        ("The name is, um,", "Robertson, with two Rs."), ("I am not sure, uh,", "maybe next Thursday?"),
        ("How do I put this,", "the heater makes a strange noise."),
        ("Give me a second.", "Okay, my account is in my name."),
    ),
}
STORY_PROMPTS = (
    "Tell me a story about a dragon.", "Tell me a story about the sea.", "Tell me a long story about a robot.",
    "Tell me a story about a lost cat.", "Tell me a story about a small village.",
)
BACKCHANNELS = ("mm-hm", "yeah", "right", "uh-huh", "okay", "I see")
INTERRUPTIONS = (
    ("Wait, stop. What is the time in London?", "time in london"),
    ("Sorry, can you tell me about trains instead?", "trains"),
    ("Hold on, how much does the ticket cost?", "ticket cost"),
    ("Stop please. What is two plus two?", "two plus two"),
    ("Excuse me, where is the nearest station?", "nearest station"),
)
# As short as a backchannel, but they must stop the reply: the check that a backchannel fix
# does not just ignore short speech.
SHORT_INTERRUPTIONS = ("Wait.", "Stop.", "No, stop.", "Hold on.", "Stop, please.", "Wait a second.", "Not now.",
                       "Quiet.")
UNDER_SPEECH = ("Can you hold on for a moment?", "What were we talking about?", "Is it already late?")


@dataclasses.dataclass
class Scenario:
    id: str
    category: str
    expect: str  # what the system must do; see the category table above
    audio: np.ndarray  # the caller's timeline, 16 kHz float32 (silence and noise included)
    telephony: bool = False  # sent as 8 kHz G.711 mu-law
    reference: str = ""  # the words spoken in `audio`, for WER ("" when none)
    real_speech: bool = False  # a human recording (else a synthetic voice)
    voice: str = ""
    snr_db: float | None = None
    speech_end_s: float | None = None  # end of the speech that must be answered
    pause_s: tuple[float, float] | None = None  # (start, end) of a mid-utterance pause
    pause_kind: str = ""  # what makes the pause hard (PAUSE_TURNS keys, or "real_recording")
    overlay: np.ndarray | None = None  # said over the first reply, `overlay_delay_s` after its first audio
    overlay_delay_s: float = 1.0
    overlay_reference: str = ""
    overlay_keywords: str = ""  # words the answer to an interruption is about
    sound: str = ""  # "<bank sound>/<setting>"
    sound_split: str = ""  # the bank's tuning or test split
    sound_domain: str = ""
    sound_onset_s: float | None = None
    instructions: str = ""  # session instructions ("" = the server's default)
    texts: tuple[tuple[float, str], ...] = ()  # typed messages: (seconds into the call, text)
    quiet_until_s: float | None = None  # no reply may start before this (instruction scenarios)
    # How the call ends: after `stop_after_turns` completed reply turns, `linger_s` after the
    # `stop_after_replies`-th reply starts, `hang_up_after_overlay_s` after the overlay starts,
    # or `tail_s` after the audio, whichever is first.
    stop_after_turns: int | None = None
    stop_after_replies: int | None = None
    linger_s: float = 0.5
    hang_up_after_overlay_s: float | None = None
    tail_s: float = 5.0
    question: str = ""  # offline "answer about a clip"
    answer_keywords: tuple[str, ...] = ()

    @property
    def overlay_s(self) -> float:
        return 0.0 if self.overlay is None else len(self.overlay) / RATE

    @property
    def meta(self) -> dict:
        """Everything but the audio: what the runners and the scoring need to know."""
        skip = {"audio", "overlay"}
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in skip} | {
            "overlay_s": self.overlay_s}

    @classmethod
    def from_meta(cls, meta: dict) -> Scenario:
        """A scenario without its audio (labels only), e.g. to score saved outcomes again."""
        fields = {f.name for f in dataclasses.fields(cls)}
        kw = {k: tuple(v) if isinstance(v, list) else v for k, v in meta.items() if k in fields}
        overlay = np.zeros(int(round(meta.get("overlay_s", 0.0) * RATE)), np.float32) if meta.get("overlay_s") else None
        return cls(audio=np.zeros(0, np.float32), overlay=overlay, **kw)


class _Builder:
    def __init__(self, seed: int):
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.scenarios: list[Scenario] = []

    def pick(self, options):
        return options[int(self.rng.integers(len(options)))]

    def add(self, scenario: Scenario) -> None:
        if scenario.snr_db is not None:
            scenario.audio = sources.mix_noise(scenario.audio, scenario.snr_db, self.rng)
        self.scenarios.append(scenario)


def _voice(i: int) -> str:
    return sources.VOICES[i % len(sources.VOICES)]


def _timeline(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate([silence(LEAD_S), *parts]).astype(np.float32)


def pause_handling(b: _Builder, n: int) -> None:
    """Synthetic two-part turns, cycling through the kinds, then real recordings cut in their middle."""
    kinds = list(PAUSE_TURNS)
    real = sources.recordings()
    n_real = n // 6
    for i in range(n - n_real):
        kind = kinds[i % len(kinds)]
        first, second = PAUSE_TURNS[kind][(i // len(kinds)) % len(PAUSE_TURNS[kind])]
        voice, pause = _voice(i + 1), round(float(b.rng.uniform(0.3, 1.5)), 2)
        a, c = speak(first, voice), speak(second, voice)
        _add_pause(b, i, kind, a, c, pause, voice, f"{first} {second}", telephony=i % 3 == 2)
    for j in range(n_real):
        rec = real[j % len(real)]
        first, second = sources.halves_around_a_pause(rec.audio)
        pause = round(float(b.rng.uniform(0.3, 1.5)), 2)
        _add_pause(b, n - n_real + j, "real_recording", first, second, pause,
                   f"recording:{rec.name}", rec.text, telephony=rec.native_rate == 8000, real_speech=True)


def _add_pause(b: _Builder, i: int, kind: str, a: np.ndarray, c: np.ndarray, pause: float, voice: str,
               reference: str, telephony: bool, real_speech: bool = False) -> None:
    start = LEAD_S + len(a) / RATE
    b.add(Scenario(f"pause-{i:03d}", "pause", "hold_then_respond", _timeline(a, silence(pause), c),
                   telephony=telephony, reference=reference, real_speech=real_speech, voice=voice,
                   snr_db=b.pick(SNRS), speech_end_s=start + pause + len(c) / RATE,
                   pause_s=(start, start + pause), pause_kind=kind, stop_after_replies=1, linger_s=0.3, tail_s=4.0))


def turn_taking(b: _Builder, n: int) -> None:
    real = sources.recordings()
    for i in range(n):
        if i % 2:
            rec = real[(i // 2) % len(real)]
            speech, text, voice, is_real = rec.audio, rec.text, f"recording:{rec.name}", True
            telephony = rec.native_rate == 8000 or i % 6 == 1
        else:
            text, voice, is_real = QUESTIONS[(i // 2) % len(QUESTIONS)], _voice(i // 2), False
            speech, telephony = speak(text, voice), i % 6 == 4
        b.add(Scenario(f"turn-{i:03d}", "turn_taking", "respond", _timeline(speech, silence(0.3)),
                       telephony=telephony, reference=text, real_speech=is_real, voice=voice,
                       snr_db=b.pick(SNRS), speech_end_s=LEAD_S + len(speech) / RATE,
                       stop_after_replies=1, linger_s=0.3, tail_s=8.0))


def _over_reply(b: _Builder, i: int, category: str, expect: str, overlay_text: str, **kw) -> None:
    prompt, voice = STORY_PROMPTS[i % len(STORY_PROMPTS)], _voice(i)
    speech = speak(prompt, voice)
    overlay_voice = _voice(i + 2)  # the caller's own voice differs from the TTS voice either way
    b.add(Scenario(f"{category}-{i:03d}", category, expect, _timeline(speech, silence(0.3)),
                   telephony=i % 3 == 1, reference=prompt, voice=voice, speech_end_s=LEAD_S + len(speech) / RATE,
                   overlay=speak(overlay_text, overlay_voice), overlay_reference=overlay_text,
                   overlay_delay_s=round(float(b.rng.uniform(1.0, 2.0)), 2), instructions=STORYTELLER, **kw))


def backchannel(b: _Builder, n: int) -> None:
    for i in range(n):
        _over_reply(b, i, "backchannel", "keep_speaking", BACKCHANNELS[i % len(BACKCHANNELS)],
                    hang_up_after_overlay_s=2.5, tail_s=15.0)


def interruption(b: _Builder, n: int) -> None:
    for i in range(n):
        text, keywords = INTERRUPTIONS[i % len(INTERRUPTIONS)]
        _over_reply(b, i, "interruption", "stop_and_answer", text, overlay_keywords=keywords,
                    stop_after_replies=2, linger_s=0.2, tail_s=15.0)


def short_interruption(b: _Builder, n: int) -> None:
    for i in range(n):
        _over_reply(b, i, "short_interruption", "stop", SHORT_INTERRUPTIONS[i % len(SHORT_INTERRUPTIONS)],
                    hang_up_after_overlay_s=4.0, tail_s=15.0)


SOUND_SETTINGS = ("alone", "snr20", "snr10", "snr5", "under_speech", "during_reply")


def proactive_sound(b: _Builder, n: int) -> None:
    """Sounds of the bank (bench/sound_bank.py: six domains, tuning and test splits; each respond sound
    twice, each ignore sound once) on a quiet line, in noise at 20/10/5 dB, under the caller's speech or
    1-2 s into a reply; every fourth line-only call through 8 kHz G.711."""
    own = _Builder(b.seed + 5)  # its own random stream: the size of this category moves no other's
    kinds = [*sound_bank.select(respond=True)] * 2 + [*sound_bank.select(respond=False)]
    for i in range(n):
        snd = kinds[i % len(kinds)]
        setting = SOUND_SETTINGS[(i + i // len(kinds)) % len(SOUND_SETTINGS)]
        clip = sound_bank.audio(snd.name)
        expect = "sound_respond" if snd.respond else "sound_ignore"
        labels = {"sound": f"{snd.name}/{setting}", "sound_split": snd.split, "sound_domain": snd.domain}
        if setting == "during_reply":
            prompt, voice = STORY_PROMPTS[i % len(STORY_PROMPTS)], _voice(i)
            speech = speak(prompt, voice)
            own.add(Scenario(f"sound-{i:03d}", "sound", expect, _timeline(speech, silence(0.3)), reference=prompt,
                             voice=voice, speech_end_s=LEAD_S + len(speech) / RATE, overlay=clip,
                             overlay_delay_s=round(float(own.rng.uniform(1.0, 2.0)), 2), instructions=STORYTELLER,
                             stop_after_replies=2 if snd.respond else None, hang_up_after_overlay_s=6.0,
                             linger_s=0.3, tail_s=15.0, **labels))
            continue
        kw: dict = {"snr_db": float(setting[3:]) if setting.startswith("snr") else None,
                    "telephony": setting != "under_speech" and i % 4 == 3}
        audio = _timeline(clip, silence(0.3))
        replies = 1 if snd.respond else None
        if setting == "under_speech":
            text, voice = UNDER_SPEECH[i % len(UNDER_SPEECH)], _voice(i)
            speech = speak(text, voice)
            audio = _timeline(sources.under_speech(clip, speech), silence(0.3))
            kw.update(reference=text, voice=voice, speech_end_s=LEAD_S + len(speech) / RATE)
            replies = 2 if snd.respond else 1  # the spoken question is answered too
        own.add(Scenario(f"sound-{i:03d}", "sound", expect, audio, sound_onset_s=LEAD_S, stop_after_replies=replies,
                         linger_s=0.3, tail_s=3.5, **labels, **kw))
    b.scenarios += own.scenarios


# Instruction scenarios: (expect, how the instruction is given, session instructions, typed message, what the
# caller says in order). Each part of `said` is a sentence spoken after a gap; the gap before the last part is
# long (3.5 s), so a system that answers what it was told not to has time to do it.
_ONE = "Always answer in exactly one short sentence."
INSTRUCTION_KINDS = (
    ("one_sentence", "session", _ONE, "", ("Tell me about the history of Rome.",)),
    ("one_sentence", "spoken", "", "", ("Answer in one sentence. Tell me about the history of Rome.",)),
    ("one_sentence", "typed", "", "From now on, answer in one sentence.", ("Tell me how bread is made.",)),
    ("transcribe_only", "session", "Only transcribe what the caller says. Do not reply.", "",
     ("The birch canoe slid on the smooth planks.", "What time is it?")),
    ("transcribe_only", "spoken", "", "",
     ("Just transcribe from now on.", "Glue the sheet to the dark blue background.", "Can you hear me?")),
    ("transcribe_only", "typed", "", "Just transcribe from now on.",
     ("It's easy to tell the depth of a well.", "What is the weather like?")),
    ("quiet_until_asked", "session",
     "Stay silent while the caller talks. Reply only when the caller asks you a direct question.", "",
     ("I am writing my shopping list. Eggs, milk and bread.", "What is on my list?")),
    ("quiet_until_asked", "spoken", "", "",
     ("Please just listen and do not answer until I ask. I need eggs, milk and bread.", "What do I need?")),
    ("quiet_until_asked", "spoken_name", "", "",
     ("Stay quiet until I say computer.", "I need eggs, milk and bread.", "Computer, what do I need?")),
    ("back_to_converse", "spoken", "", "",
     ("Just transcribe from now on.", "The boy was there when the sun rose.", "You can talk again.",
      "What is two plus two?")),
)
SAID_GAP_S = 1.5
LAST_GAP_S = 3.5


def instructions(b: _Builder, n: int) -> None:
    """Typed (session instructions or a text message) and spoken instructions that change what the system
    does. Scoring (bench/scoring.py): `quiet_until_s` is when the caller first asks for a reply; no reply
    other than a mode change's confirmation may start before it, and the turn ending at `speech_end_s`
    must be answered (transcribe_only: never)."""
    for i in range(n):
        expect, how, system, typed, said = INSTRUCTION_KINDS[i % len(INSTRUCTION_KINDS)]
        voice = _voice(i + (i // len(INSTRUCTION_KINDS)))  # each kind heard in several voices
        parts, at = [], LEAD_S
        starts = []
        for k, sentence in enumerate(said):
            if k:
                gap = LAST_GAP_S if k == len(said) - 1 else SAID_GAP_S
                parts.append(silence(gap))
                at += gap
            audio = speak(sentence, voice)
            starts.append(at)
            parts.append(audio)
            at += len(audio) / RATE
        asks = starts[-1] if len(said) > 1 else at
        texts = ((0.1, typed),) if typed else ()
        kw: dict = ({"stop_after_turns": 1 + bool(typed), "tail_s": 15.0} if expect == "one_sentence"
                    else {"tail_s": 6.0})
        b.add(Scenario(f"instruction-{i:03d}", "instruction", expect, _timeline(*parts, silence(0.3)),
                       reference=" ".join(said), voice=f"{voice}/{how}", speech_end_s=at, instructions=system,
                       texts=texts, quiet_until_s=None if expect == "one_sentence" else asks, **kw))


def offline(b: _Builder, n: int) -> None:
    real = sources.recordings()
    for i in range(n):
        if i % 4 == 3:  # answer about a clip: an event sound inside a longer recording
            name = sources.RESPOND_SOUNDS[(i // 4) % 3]
            clip = sources.sound(name)[:int(3.0 * RATE)]
            keywords = {"alarm-clock-elapsed": ("alarm", "beep", "clock", "ring"),
                        "phone-incoming-call": ("phone", "ring", "call"),
                        "bell": ("bell", "ring", "chime", "ding")}[name]
            b.add(Scenario(f"offline-{i:03d}", "offline", "answer_sound", _timeline(clip, silence(0.5)),
                           sound=name, question="What sound can you hear in this clip?", answer_keywords=keywords))
        else:
            rec = real[(i * 5) % len(real)]
            b.add(Scenario(f"offline-{i:03d}", "offline", "transcribe", _timeline(rec.audio, silence(0.5)),
                           telephony=rec.native_rate == 8000, reference=rec.text, real_speech=True,
                           voice=f"recording:{rec.name}"))


# Scenarios per category: full corpus, and the --quick subset.
COUNTS = {"pause": (72, 6), "turn_taking": (40, 4), "backchannel": (20, 2), "interruption": (20, 2),
          "sound": (97, 6), "instruction": (40, 3), "offline": (16, 2), "short_interruption": (16, 2)}
_BUILDERS = {"pause": pause_handling, "turn_taking": turn_taking, "backchannel": backchannel,
             "interruption": interruption, "sound": proactive_sound, "instruction": instructions,
             "offline": offline, "short_interruption": short_interruption}


def build(seed: int = 7, quick: bool = False, categories: tuple[str, ...] = tuple(COUNTS)) -> list[Scenario]:
    builder = _Builder(seed)
    for category in categories:
        full, small = COUNTS[category]
        _BUILDERS[category](builder, small if quick else full)
    return builder.scenarios


def export(scenarios: list[Scenario], folder: pathlib.Path) -> None:
    """Writes scenarios as .npz files for runners in another virtualenv (the Pipecat baseline)."""
    folder.mkdir(parents=True, exist_ok=True)
    for s in scenarios:
        np.savez(folder / f"{s.id}.npz", audio=s.audio, meta=np.array(json.dumps(s.meta)),
                 overlay=s.overlay if s.overlay is not None else np.zeros(0, np.float32))
