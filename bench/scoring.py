"""Scores outcomes against the scenarios' labels, per category and overall.

Definitions (times on the caller's clock; "speech end" is where the caller's
last word ends in the audio sent):
  takeover (pause)       a reply's first audio arrives before the caller finished
  turn-taking success    no takeover, and reply audio within 5 s of speech end
  latency                speech end -> first reply audio at the client
  backchannel false stop the reply playing under "mm-hm" was stopped
  barge-in success       the reply under the interruption was stopped; stop latency
                         is interruption onset -> last reply audio received
  answered new content   a later reply whose prompt (or the transcripts) holds the
                         interruption's key words
  short interruption     the reply under a one-to-three-word "Wait."/"Stop." was stopped
  proactive accuracy     reacted to a respond-sound, did not react to an ignore-sound
  instruction compliance no reply (a mode change's confirmation aside) before the caller
                         asks for one, then an answer within 5 s: of one sentence where
                         asked; transcribe only: no reply at all, and final transcripts
                         (their WER is reported apart: it is the recognizer's, not the mode's)
  WER                    corpus WER of final transcripts, real and synthetic speech apart
"""
from __future__ import annotations

import re

import jiwer
import numpy as np

from bench.outcome import Outcome, ReplyTurn
from bench.scenarios import Scenario, build

REPLY_WINDOW_S = 5.0
_NUMBERS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
            "sixteen seventeen eighteen nineteen twenty").split()


def normalize(text: str) -> str:
    text = text.lower().replace("-", " ").replace("'", "")
    text = re.sub(r"\b(\d+)\b", lambda m: _NUMBERS[int(m.group(1))] if int(m.group(1)) <= 20 else m.group(1), text)
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text).split())


def summary(values: list[float]) -> dict:
    """p50/p95/mean in ms of values in seconds."""
    values = [v for v in values if v is not None]
    if not values:
        return {"n": 0}
    arr = np.asarray(values) * 1000
    return {"n": len(values), "p50_ms": round(float(np.percentile(arr, 50)), 1),
            "p95_ms": round(float(np.percentile(arr, 95)), 1), "mean_ms": round(float(arr.mean()), 1)}


def rate(hits: list[bool]) -> dict:
    return {"n": len(hits), "rate": round(sum(hits) / len(hits), 3) if hits else None}


def wer(pairs: list[tuple[str, str]]) -> dict:
    pairs = [(normalize(r), normalize(h)) for r, h in pairs if normalize(r)]
    if not pairs:
        return {"n": 0}
    out = jiwer.process_words([r for r, _ in pairs], [h for _, h in pairs])
    return {"n": len(pairs), "wer": round(out.wer, 3), "ref_words": sum(len(r.split()) for r, _ in pairs)}


# A gap in reply audio a listener notices as a hitch, not a pause between words.
STALL_S = 0.1


def _answers(pairs: list[tuple[Scenario, Outcome]]) -> list[ReplyTurn]:
    """The first reply after each caller's speech, where it came."""
    return [t for s, o in pairs if (t := _first_after(o, s.speech_end_s)) is not None]


def _first_after(outcome: Outcome, t: float) -> ReplyTurn | None:
    return next((turn for turn in outcome.turns if turn.first_audio_s >= t), None)


def _took_over(s: Scenario, o: Outcome) -> bool:
    return any(turn.first_audio_s < s.speech_end_s for turn in o.turns)


def _answer_latency(s: Scenario, o: Outcome) -> float | None:
    if _took_over(s, o):
        return None
    turn = _first_after(o, s.speech_end_s)
    latency = turn.first_audio_s - s.speech_end_s if turn else None
    return latency if latency is not None and latency <= REPLY_WINDOW_S else None


def turn_latencies_ms(scenarios: list[Scenario], outcomes: list[Outcome]) -> list[float]:
    """Speech end -> first reply audio of every answered turn-taking scenario, for CDFs."""
    by_id = {o.id: o for o in outcomes}
    latencies = [_answer_latency(s, by_id[s.id]) for s in scenarios if s.category == "turn_taking" and s.id in by_id]
    return sorted(round(x * 1000, 1) for x in latencies if x is not None)


def _sentences(text: str) -> int:
    return len([p for p in re.split(r"(?<=[.!?])\s+", text.strip()) if len(p.split()) >= 2]) or (1 if text else 0)


def _sound_reaction_latency(s: Scenario, o: Outcome) -> float | None:
    """Sound onset -> first audio of the reaction to it, for a respond sound reacted to (else None)."""
    onset = o.overlay_at if s.overlay is not None else s.sound_onset_s  # during a reply: when it was played
    turn = next((t for t in o.turns if t.cause == "sound" or t.heard_sound), None)
    if s.expect != "sound_respond" or turn is None or onset is None:
        return None
    return turn.first_audio_s - onset


def _sound_breakdown(sounds: list[tuple[Scenario, Outcome]], key) -> dict:
    """Respond recall and ignore accuracy per group of sound scenarios (bank split, domain, setting)."""
    groups: dict[str, list[tuple[Scenario, Outcome]]] = {}
    for s, o in sounds:
        if key(s).strip("/"):  # results from before the sound bank carry no split or domain
            groups.setdefault(key(s), []).append((s, o))
    return {k: {"respond_recall": rate([_reacted_to_sound(s, o) for s, o in v if s.expect == "sound_respond"]),
                "ignore_correct": rate([not _reacted_to_sound(s, o) for s, o in v if s.expect == "sound_ignore"])}
            for k, v in sorted(groups.items())}


def _reacted_to_sound(s: Scenario, o: Outcome) -> bool:
    if o.sound_reactions or any(t.cause == "sound" for t in o.turns):
        return True
    if any(t.cause for t in o.turns):  # the system says why it spoke, and it was not a sound
        return False
    # Systems that do not say why they spoke: a reply beyond the ones the speech asked for.
    onset = o.overlay_at if s.overlay is not None else s.sound_onset_s
    if onset is None:
        return False  # played over a reply that never came
    spoken_replies = 1 if s.speech_end_s is not None and s.overlay is None else 0
    return len([t for t in o.turns if t.first_audio_s >= onset]) > spoken_replies


def _keywords_heard(s: Scenario, o: Outcome, turn: ReplyTurn) -> bool:
    heard = set(normalize(turn.prompt + " " + " ".join(o.transcripts)).split())
    words = normalize(s.overlay_keywords).split()
    return sum(w in heard for w in words) >= max(1, len(words) // 2)


def score(scenarios: list[Scenario], outcomes: list[Outcome]) -> dict:
    by_id = {o.id: o for o in outcomes}
    pairs = [(s, by_id[s.id]) for s in scenarios if s.id in by_id]
    failed = [o.id for _, o in pairs if o.error and not o.turns and not o.transcripts and not o.answer]
    unsupported = sorted({o.unsupported for _, o in pairs if o.unsupported})
    cat = {}

    def of(category: str, expect: str | None = None):
        return [(s, o) for s, o in pairs if s.category == category and (expect is None or s.expect == expect)
                and not o.unsupported]

    pause = of("pause")
    cat["pause"] = {"takeover": rate([_took_over(s, o) for s, o in pause]),
                    "answered_after_pause": rate([_answer_latency(s, o) is not None for s, o in pause]),
                    "latency": summary([_answer_latency(s, o) for s, o in pause]),
                    "takeover_real_speech": rate([_took_over(s, o) for s, o in pause if s.real_speech]),
                    "takeover_8k_mulaw": rate([_took_over(s, o) for s, o in pause if s.telephony]),
                    "takeover_noisy": rate([_took_over(s, o) for s, o in pause if s.snr_db is not None]),
                    "takeover_by_kind": {kind: rate([_took_over(s, o) for s, o in pause if s.pause_kind == kind])
                                         for kind in sorted({s.pause_kind for s, _ in pause})}}

    turns = of("turn_taking")
    answers = _answers(turns)
    cat["turn_taking"] = {
        "success": rate([_answer_latency(s, o) is not None for s, o in turns]),
        "latency": summary([_answer_latency(s, o) for s, o in turns]),
        "latency_8k_mulaw": summary([_answer_latency(s, o) for s, o in turns if s.telephony]),
        "latency_16k": summary([_answer_latency(s, o) for s, o in turns if not s.telephony]),
        "latency_clean_16k": summary([_answer_latency(s, o) for s, o in turns
                                      if not s.telephony and s.snr_db is None]),
        "latency_noisy": summary([_answer_latency(s, o) for s, o in turns if s.snr_db is not None]),
        "latency_real_speech": summary([_answer_latency(s, o) for s, o in turns if s.real_speech]),
        # Once a reply is heard, does it flow? Silence inside the first answer, as a client that plays
        # what it has hears it (systems that report audio piece by piece).
        "reply_stall": summary([t.stall_s for t in answers]),
        "replies_stalled": rate([t.stall_s > STALL_S for t in answers if t.stall_s is not None]),
    }

    backchannel = [(s, o) for s, o in of("backchannel") if o.overlay_at is not None]
    cat["backchannel"] = {
        "false_stop": rate([bool(o.turns) and o.turns[0].interrupted for s, o in backchannel]),
        "new_reply_to_backchannel": rate([any(t.first_audio_s > o.overlay_at for t in o.turns[1:])
                                          for s, o in backchannel]),
        "overlay_played": f"{len(backchannel)}/{len(of('backchannel'))}"}

    barge = [(s, o) for s, o in of("interruption") if o.overlay_at is not None]
    stops = [o.turns[0].last_audio_s - o.overlay_at if o.turns and o.turns[0].interrupted else None
             for s, o in barge]
    answered = []
    for s, o in barge:
        later = [t for t in o.turns[1:] if t.first_audio_s > o.overlay_at]
        answered.append(bool(later) and _keywords_heard(s, o, later[0]))
    cat["interruption"] = {
        "barge_in_success": rate([x is not None for x in stops]),
        "stop_latency": summary([max(0.0, x) for x in stops if x is not None]),
        "answered_new_content": rate(answered),
        "new_answer_latency": summary([
            t.first_audio_s - (o.overlay_at + s.overlay_s)
            for s, o in barge for t in o.turns[1:2] if t.first_audio_s > o.overlay_at]),
        "overlay_played": f"{len(barge)}/{len(of('interruption'))}"}

    short = [(s, o) for s, o in of("short_interruption") if o.overlay_at is not None]
    short_stops = [o.turns[0].last_audio_s - o.overlay_at if o.turns and o.turns[0].interrupted else None
                   for s, o in short]
    cat["short_interruption"] = {
        "stopped": rate([x is not None for x in short_stops]),
        "stop_latency": summary([max(0.0, x) for x in short_stops if x is not None]),
        "overlay_played": f"{len(short)}/{len(of('short_interruption'))}"}

    sounds = of("sound")
    correct = [_reacted_to_sound(s, o) == (s.expect == "sound_respond") for s, o in sounds]
    sound_turn_latency = [_sound_reaction_latency(s, o) for s, o in sounds]
    cat["sound"] = {
        "accuracy": rate(correct),
        "respond_recall": rate([_reacted_to_sound(s, o) for s, o in sounds if s.expect == "sound_respond"]),
        "ignore_correct": rate([not _reacted_to_sound(s, o) for s, o in sounds if s.expect == "sound_ignore"]),
        "by_setting": {setting: rate([c for (s, _), c in zip(sounds, correct, strict=True)
                                      if s.sound.endswith(setting)])
                       for setting in sorted({s.sound.rsplit("/", 1)[-1] for s, _ in sounds})},
        "by_split": _sound_breakdown(sounds, lambda s: s.sound_split),
        "by_domain": _sound_breakdown(sounds, lambda s: s.sound_domain),
        "by_split_setting": _sound_breakdown(sounds, lambda s: f"{s.sound_split}/{s.sound.rsplit('/', 1)[-1]}"),
        "onset_to_reaction_audio": summary(sound_turn_latency)}
    for split in ("tuning", "test"):
        cat["sound"]["by_split"].get(split, {})["onset_to_reaction_audio"] = summary(
            [_sound_reaction_latency(s, o) for s, o in sounds if s.sound_split == split])

    compliance, by_channel = {}, {}
    for s, o in of("instruction"):
        complied = _complies(s, o)
        compliance.setdefault(s.expect, []).append(complied)
        by_channel.setdefault(s.voice.rsplit("/", 1)[-1], []).append(complied)  # session, spoken, typed, ...
    cat["instruction"] = {"compliance": rate([c for cs in compliance.values() for c in cs]),
                          **{k: rate(v) for k, v in compliance.items()},
                          "transcribe_only_wer": wer([(s.reference, " ".join(o.transcripts))
                                                      for s, o in of("instruction") if s.expect == "transcribe_only"]),
                          "by_channel": {k: rate(v) for k, v in sorted(by_channel.items())}}

    offline = of("offline")
    cat["offline"] = {
        "transcribe_wer": wer([(s.reference, " ".join(o.transcripts)) for s, o in offline if s.expect == "transcribe"]),
        "answer_about_sound": rate([any(k in o.answer.lower() for k in s.answer_keywords)
                                    for s, o in offline if s.expect == "answer_sound"])}

    asr = [(s, o) for s, o in pairs if s.category in ("pause", "turn_taking") and s.reference]
    cat["asr"] = {
        "wer_real": wer([(s.reference, " ".join(o.transcripts)) for s, o in asr if s.real_speech]),
        "wer_synthetic": wer([(s.reference, " ".join(o.transcripts)) for s, o in asr if not s.real_speech]),
        "wer_8k_mulaw": wer([(s.reference, " ".join(o.transcripts)) for s, o in asr if s.telephony]),
        "wer_16k": wer([(s.reference, " ".join(o.transcripts)) for s, o in asr if not s.telephony])}
    cat["stages"] = stage_breakdown(pairs)
    return {"scenarios": len(pairs), "failed": failed, "unsupported": unsupported, "categories": cat}


def _complies(s: Scenario, o: Outcome) -> bool:
    """Did the system do what the instruction said? A mode change's spoken confirmation is no reply."""
    replies = [t for t in o.turns if t.cause != "instruction"]
    if s.quiet_until_s is not None and any(t.first_audio_s < s.quiet_until_s for t in replies):
        return False
    if s.expect == "transcribe_only":  # how well it transcribed is "transcribe_only_wer", apart
        return not replies and any(t.strip() for t in o.transcripts)
    answer = next((t for t in replies if t.first_audio_s >= s.speech_end_s), None)
    if answer is None or answer.first_audio_s - s.speech_end_s > REPLY_WINDOW_S:
        return False
    return s.expect != "one_sentence" or _sentences(answer.text) == 1


def stage_breakdown(pairs: list[tuple[Scenario, Outcome]]) -> dict:
    """Where the time of a spoken reply went: the client-side waterfall from speech end (turn-taking
    and pause scenarios), and each system's own per-stage measurements."""
    spoken = [(s, o) for s, o in pairs if s.category in ("turn_taking", "pause") and s.speech_end_s is not None
              and not _took_over(s, o)]
    milestones = {}
    for s, o in spoken:
        # Systems that report no milestones still show when their reply audio arrived.
        reached = o.milestones
        if not reached and (answer := _first_after(o, s.speech_end_s)) is not None:
            reached = {"first_reply_audio": answer.first_audio_s}
        for name, at in reached.items():
            milestones.setdefault(name, []).append(at - s.speech_end_s)
    # Gateway metrics arrive when a turn ends, so calls that hang up early have none: take
    # every scenario's answer to the caller's speech (interrupted and instructed ones too).
    answered = [(s, o) for s, o in pairs if s.speech_end_s is not None and s.category != "sound"
                and not _took_over(s, o)]
    stages = {}
    for s, o in answered:
        turn = _first_after(o, s.speech_end_s)
        for name, seconds in (turn.stages if turn else {}).items():
            stages.setdefault(name, []).append(seconds)
    return {"from_speech_end": {k: summary(v) for k, v in milestones.items()},
            "system_reported": {k: summary(v) for k, v in stages.items()}}


def first_call(scenario: Scenario, outcome: Outcome, steady_p50_ms: float | None) -> dict:
    """A fresh server's first call: speech end -> first reply audio, with no reply window (a slow first call
    is what it is there to show), and its ratio to the steady-state median (turn-taking latency p50)."""
    turn = _first_after(outcome, scenario.speech_end_s) if scenario.speech_end_s is not None else None
    ms = round((turn.first_audio_s - scenario.speech_end_s) * 1000, 1) if turn else None
    return {"scenario": scenario.id, "voice_to_voice_ms": ms, "steady_state_p50_ms": steady_p50_ms,
            "ratio": round(ms / steady_p50_ms, 2) if ms is not None and steady_p50_ms else None,
            "error": outcome.error}


def rescore(results: dict) -> dict:
    """Scores the saved outcomes again (after a change to bench/scoring.py), without rerunning."""
    if "scenarios" in results:
        scenarios = [Scenario.from_meta(meta) for meta in results["scenarios"]]
    else:  # results from before labels were saved: rebuild them from the seed
        scenarios = build(results["meta"]["seed"], quick=results["meta"]["quick"])
    by_id = {s.id: s for s in scenarios}
    for profile in results["profiles"].values():
        for system in profile["systems"].values():
            outcomes = [Outcome.from_json(dict(o)) for o in system["outcomes"]]
            ids = {o.id for o in outcomes}
            chosen = [s for s in scenarios if s.id in ids]
            system["scores"] = score(chosen, outcomes)
            system["turn_latencies_ms"] = turn_latencies_ms(chosen, outcomes)
            first = system.get("first_call")
            if first and first.get("outcome") and first["scenario"] in by_id:
                steady = system["scores"]["categories"]["turn_taking"]["latency"].get("p50_ms")
                system["first_call"] = {**first_call(by_id[first["scenario"]],
                                                     Outcome.from_json(dict(first["outcome"])), steady),
                                        "outcome": first["outcome"]}
    return results
