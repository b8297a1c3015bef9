"""Reply accuracy per LLM on the spoken question set (bench/questions.py), scored by keyword.

    python -m bench.reply_accuracy --llm smollm2-135m,qwen2.5-coder-0.5b,qwen2.5-coder-1.5b
    python -m bench.reply_accuracy --spoken --asr whisper-base --out /tmp/accuracy.json
    python -m bench.reply_accuracy --spoken      # ASR: the default profile's English engine

--text (default): each LLM gets the question's text as the caller's words.
--spoken: each question is first synthesized with one of the benchmark's voices (they take
turns), recognized by the encoder stage in this process (`EncoderStage.transcribe_utterance`,
as the gateway calls it), and the transcript is what every LLM gets; the ASR WER is reported.

Every LLM runs as the real LLM stage in this process (`LlmStage.from_settings`, the model's
own profile for threads), is sent what the gateway sends for a caller's first turn (its
default instructions and `services.gateway.prompts`), and samples at the settings'
temperature with a fixed seed set before every question: the same run gives the same replies.
One untimed question first loads the model and caches the system prompt, as on a serving
replica; time to first token is then the request -> first non-empty delta. Timings depend on
what else the machine runs: compare them within one run.
"""
from __future__ import annotations

import os

# Before llama.cpp, CTranslate2 or onnxruntime load their OpenMP runtime (see MODELS.md).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse
import asyncio
import dataclasses
import json
import pathlib
import re
import time
from collections.abc import Sequence

import numpy as np

from bench.questions import QUESTIONS, Question
from bench.scoring import normalize, rate, summary, wer

DEFAULT_LLMS = ("smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b")
DEFAULT_SEED = 1234
WARM_UP = "Hello, can you hear me?"
PAD_S = 0.2  # silence around a synthesized question, as a VAD-cut utterance has

# ----------------------------------------------------------------------------- scoring

_NUMBER_WORDS = frozenset((
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million "
    "billion").split())
_SCALES = frozenset(("hundred", "thousand", "million", "billion"))


def _clauses(text: str) -> list[list[str]]:
    """Normalized words of each clause: punctuation between clauses ends a number."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
    text = re.sub(r"(\d)\.0+\b", r"\1", text)  # $15.00 -> $15
    return [words for part in re.split(r"[.!?;:,]+(?:\s+|$)", text) if (words := normalize(part).split())]


def _is_number(word: str) -> bool:
    return word in _NUMBER_WORDS or word.isdigit()


def _continues_number(words: list[str], at: int, step: int) -> bool:
    """The word at `at` (then further by `step`) makes the number next to it longer."""
    if not 0 <= at < len(words):
        return False
    if _is_number(words[at]):
        return True
    # "one hundred and six", "two hundred and twenty": "and" links a number to a scale word before it.
    beyond = at + step
    return (words[at] == "and" and at >= 1 and words[at - 1] in _SCALES
            and 0 <= beyond < len(words) and _is_number(words[beyond]))


def _found(phrase: list[str], clauses: list[list[str]]) -> bool:
    n = len(phrase)
    for words in clauses:
        for i in range(len(words) - n + 1):
            if words[i:i + n] != phrase:
                continue
            if _is_number(phrase[0]) and _continues_number(words, i - 1, -1):
                continue  # "twenty" inside "one hundred twenty"
            if _is_number(phrase[-1]) and _continues_number(words, i + n, 1):
                continue  # "twenty" inside "twenty five"
            return True
    return False


def keyword_hits(keywords: Sequence[Sequence[str]], reply: str) -> list[bool]:
    """For each any-of group: whether the reply says one of its alternatives (whole words,
    after `bench.scoring.normalize`; a number keyword does not match inside a longer number)."""
    clauses = _clauses(reply)
    return [any(_found(phrase, clauses) for alt in group if (phrase := normalize(alt).split()))
            for group in keywords]


def is_right(question: Question, reply: str) -> bool:
    return all(keyword_hits(question.keywords, reply))


# ----------------------------------------------------------------------------- hearing the questions

@dataclasses.dataclass
class Heard:
    question: Question
    prompt: str  # what the LLM is told the caller said
    voice: str = ""
    asr_s: float | None = None


def as_text(questions: Sequence[Question]) -> list[Heard]:
    return [Heard(q, q.text) for q in questions]


async def as_spoken(questions: Sequence[Question], asr_model: str, voices: Sequence[str]) -> list[Heard]:
    """Synthesizes each question (voices in turn) and recognizes it with the encoder stage."""
    from bench import sources
    from services.encoder.stage import EncoderStage
    from soundloop.audio import codec
    from soundloop.encoder.v1 import encoder_pb2
    from soundloop.settings import Settings

    settings = Settings()
    settings.encoder.asr_model = asr_model  # named: the profile adds no second (multilingual) engine
    encoder = EncoderStage.from_settings(settings)
    heard = []
    try:
        for i, q in enumerate(questions):
            voice = voices[i % len(voices)]
            audio = np.concatenate([sources.silence(PAD_S), sources.speak(q.text, voice), sources.silence(PAD_S)])
            started = time.perf_counter()
            result = await encoder.transcribe_utterance(
                encoder_pb2.TranscribeUtteranceRequest(pcm16k=codec.pcm16_bytes(audio), is_final=True))
            heard.append(Heard(q, result.text.strip(), voice, time.perf_counter() - started))
            print(f"  [{asr_model}] {q.id} ({voice}): {result.text.strip()!r}", flush=True)
    finally:
        encoder.close()
    return heard


# ----------------------------------------------------------------------------- asking the LLMs

def llm_settings(model: str, threads: int = 0, max_tokens: int = 0):
    """Settings that run `model` as its own profile would (threads), else as the default profile."""
    from soundloop.settings import Settings

    profile = next((p for p in ("light", "default") if Settings(profile=p).resolved().llm.model == model), "default")
    settings = Settings(profile=profile)
    settings.llm.model = model
    settings.llm.threads = threads or settings.llm.threads
    settings.llm.max_tokens = max_tokens or settings.llm.max_tokens
    return settings.resolved()


def gateway_messages(instructions: str, caller_said: str) -> list:
    """The messages the gateway sends for a caller's first spoken turn."""
    from services.gateway import prompts
    from services.gateway.session_store import ChatTurn
    from soundloop.v1 import interaction_pb2 as pb

    history = [ChatTurn("user", prompts.user_message(pb.TURN_CAUSE_SPEECH, caller_said))]
    return prompts.conversation(instructions, history)


def _fix_seed(stage, seed: int) -> None:
    # The embedded backend builds a new sampler from the model's seed for every generation
    # (llama-cpp-python's Llama.generate); the settings have no seed, so set it here.
    llama = getattr(stage.backend, "_llm", None)
    if llama is not None:
        llama.set_seed(seed)


async def _ask(stage, instructions: str, caller_said: str, seed: int) -> dict:
    from soundloop.llm.v1 import llm_pb2

    _fix_seed(stage, seed)
    # As the gateway: no max_tokens or temperature in the request, so the stage's settings apply.
    request = llm_pb2.GenerateRequest(session_id="reply-accuracy", turn_id="t1",
                                      messages=gateway_messages(instructions, caller_said))
    text, first, tokens = "", None, 0
    started = time.perf_counter()
    async for response in stage.generate(request):
        if response.delta and first is None:
            first = time.perf_counter() - started
        text += response.delta
        tokens = response.completion_tokens or tokens
    total = time.perf_counter() - started
    stats = getattr(stage.backend, "recent", None)
    last = stats[-1] if stats else None
    return {"reply": text, "ttft_s": first, "total_s": total, "completion_tokens": tokens,
            "prompt_tokens": getattr(last, "prompt_tokens", None),
            "cached_tokens": getattr(last, "cached_tokens", None)}


async def ask_llm(model: str, heard: Sequence[Heard], *, seed: int = DEFAULT_SEED, threads: int = 0,
                  max_tokens: int = 0, verbose: bool = True) -> dict:
    """Every heard question to one LLM, through the LLM stage; the answers and their summary."""
    from services.llm.stage import LlmStage

    settings = llm_settings(model, threads, max_tokens)
    instructions = settings.gateway.default_instructions
    started = time.perf_counter()
    stage = LlmStage.from_settings(settings)
    try:
        await _ask(stage, instructions, WARM_UP, seed)
        load_s = time.perf_counter() - started
        answers = []
        for h in heard:
            answer = await _ask(stage, instructions, h.prompt, seed)
            hits = keyword_hits(h.question.keywords, answer["reply"])
            answer = {"id": h.question.id, "category": h.question.category, "prompt": h.prompt,
                      "right": all(hits), "keyword_hits": hits,
                      "reply_words": len(answer["reply"].split()), **answer}
            answers.append(answer)
            if verbose:
                mark = "ok  " if answer["right"] else "MISS"
                print(f"  [{model}] {mark} {h.question.id}: {answer['reply']!r}", flush=True)
    finally:
        await stage.close()
    return {"settings": {"model": model, "threads": settings.llm.threads, "temperature": settings.llm.temperature,
                         "max_tokens": settings.llm.max_tokens, "seed": seed},
            "load_and_warm_up_s": round(load_s, 2), "summary": summarize(answers), "answers": answers}


def summarize(answers: Sequence[dict]) -> dict:
    categories = sorted({a["category"] for a in answers})
    decode = [(a["completion_tokens"] - 1) / (a["total_s"] - a["ttft_s"]) for a in answers
              if a["ttft_s"] is not None and a["completion_tokens"] > 1 and a["total_s"] > a["ttft_s"]]
    return {
        "accuracy": rate([a["right"] for a in answers]),
        "by_category": {c: rate([a["right"] for a in answers if a["category"] == c]) for c in categories},
        "ttft": summary([a["ttft_s"] for a in answers]),
        "reply_words_p50": float(np.percentile([a["reply_words"] for a in answers], 50)) if answers else None,
        "decode_tokens_per_s_p50": round(float(np.percentile(decode, 50)), 1) if decode else None,
        "no_reply": sum(1 for a in answers if not a["reply"].strip()),
    }


# ----------------------------------------------------------------------------- the whole measurement

async def measure(questions: Sequence[Question], llms: Sequence[str], *, spoken: bool = False,
                  asr: str = "", voices: Sequence[str] | None = None, seed: int = DEFAULT_SEED,
                  threads: int = 0, max_tokens: int = 0, verbose: bool = True) -> dict:
    """`asr` "": the default profile's English ASR model."""
    if spoken:
        from bench.sources import VOICES
        from soundloop.settings import Settings

        asr = asr or Settings().resolved().encoder.asr_model
        voices = tuple(voices or VOICES)
        heard = await as_spoken(questions, asr, voices)
    else:
        heard = as_text(questions)
    result: dict = {"mode": "spoken" if spoken else "text", "questions": len(questions), "seed": seed,
                    "machine": {"cpus": os.cpu_count(), "load_avg_at_start": list(os.getloadavg())},
                    "note": "timings from a shared machine: compare within one run"}
    if spoken:
        result["asr"] = {"model": asr, "voices": list(voices),
                         "wer": wer([(h.question.text, h.prompt) for h in heard]),
                         "wer_by_voice": {v: wer([(h.question.text, h.prompt) for h in heard if h.voice == v])
                                          for v in dict.fromkeys(h.voice for h in heard)},
                         "asr_time": summary([h.asr_s for h in heard]),
                         "transcripts": [{"id": h.question.id, "voice": h.voice, "text": h.question.text,
                                          "heard": h.prompt} for h in heard]}
    result["llms"] = {}
    for model in llms:
        print(f"[reply-accuracy] {model}: {len(heard)} {result['mode']} questions", flush=True)
        result["llms"][model] = await ask_llm(model, heard, seed=seed, threads=threads, max_tokens=max_tokens,
                                              verbose=verbose)
    result["machine"]["load_avg_at_end"] = list(os.getloadavg())
    return result


def table(result: dict) -> str:
    lines = []
    if result["mode"] == "spoken":
        asr = result["asr"]
        lines.append(f"mode: spoken; ASR {asr['model']}: WER {asr['wer'].get('wer')} over {asr['wer'].get('n')} "
                     f"questions ({len(asr['wer_by_voice'])} voices), ASR time p50 {asr['asr_time'].get('p50_ms')} ms")
        lines.append("  WER by voice: " + ", ".join(f"{v} {w.get('wer')}" for v, w in asr["wer_by_voice"].items()))
    else:
        lines.append("mode: text (the question's text is the caller's words)")
    lines.append(f"{'llm':<22}{'accuracy':>16}{'TTFT p50':>11}{'TTFT p95':>11}{'words p50':>11}{'tok/s p50':>11}")
    for model, run in result["llms"].items():
        s = run["summary"]
        acc = f"{s['accuracy']['rate']:.3f} ({sum(a['right'] for a in run['answers'])}/{s['accuracy']['n']})"
        lines.append(f"{model:<22}{acc:>16}{_ms(s['ttft'], 'p50_ms'):>11}{_ms(s['ttft'], 'p95_ms'):>11}"
                     f"{s['reply_words_p50']!s:>11}{s['decode_tokens_per_s_p50']!s:>11}")
    categories = sorted({c for run in result["llms"].values() for c in run["summary"]["by_category"]})
    lines.append("by category: " + ", ".join(categories))
    for model, run in result["llms"].items():
        by = run["summary"]["by_category"]
        lines.append(f"  {model:<20}" + "  ".join(f"{c[:8]} {by[c]['rate']:.2f}" for c in categories if c in by))
    lines.append(f"(timings: {result['note']}; load average {result['machine']['load_avg_at_start'][0]:.1f} at "
                 f"start, {result['machine'].get('load_avg_at_end', [float('nan')])[0]:.1f} at end)")
    return "\n".join(lines)


def _ms(stats: dict, key: str) -> str:
    return f"{stats[key]:.0f} ms" if key in stats else "-"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llm", default=",".join(DEFAULT_LLMS), help="comma-separated model names")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--spoken", action="store_true", help="synthesize, recognize, then ask")
    mode.add_argument("--text", action="store_true", help="ask the question's text (the default)")
    parser.add_argument("--asr", default="", help="ASR model for --spoken (default: the default profile's)")
    parser.add_argument("--voices", default="", help="comma-separated voices for --spoken (default: all)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--threads", type=int, default=0, help="LLM threads (0: the model's profile)")
    parser.add_argument("--max-tokens", type=int, default=0, help="0: the settings' max_tokens")
    parser.add_argument("--quiet", action="store_true", help="no per-question lines")
    parser.add_argument("--out", type=pathlib.Path, help="write the results as JSON")
    args = parser.parse_args(argv)
    llms = [m.strip() for m in args.llm.split(",") if m.strip()]
    questions = QUESTIONS[:args.limit] if args.limit else QUESTIONS
    voices = [v.strip() for v in args.voices.split(",") if v.strip()] or None
    result = asyncio.run(measure(questions, llms, spoken=args.spoken, asr=args.asr, voices=voices, seed=args.seed,
                                 threads=args.threads, max_tokens=args.max_tokens, verbose=not args.quiet))
    print(table(result))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
