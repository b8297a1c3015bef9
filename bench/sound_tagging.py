"""How well soundloop's ears pick the sounds worth a word: the live tagging path and the default
sound policy over the sound bank, per split, domain and listening condition.

    python -m bench.sound_tagging                  # both splits, ~2 min on 2 cores
    python -m bench.sound_tagging --split tuning   # what rules may be chosen on

Every bank sound (bench/sound_bank.py) is heard in six conditions: alone on a quiet line; in
recorded noise at 20, 10 and 5 dB SNR; under a caller's sentence; and through 8 kHz G.711
(mu-law). Each clip streams through the encoder's tagging exactly as a live call does
(`sound_events.advance`, 100 ms chunks, one 0.96 s window every sound_hop_ms) and every
chunk's tags go through the decider's `sound_reaction.react` with the default SoundPolicy.
A respond sound counts as caught when a reaction comes before 1.5 s after it ends; an ignore
sound counts as ignored when none comes at all. Latency is onset -> end of the chunk whose tags
triggered the reaction (what the decider sees; the reply's audio comes after it).

This isolates the ears from the rest of the loop (turn-taking, LLM, TTS), so it is cheap enough
to run on every change; bench.run's sound category measures the whole call.
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import pathlib

import numpy as np

from bench import sound_bank, sources
from services.decider import sound_reaction
from services.decider.turn_settings import SoundSettings, resolve_sound
from services.encoder import sound_events
from soundloop.audio import codec
from soundloop.encoder.v1 import encoder_pb2
from soundloop.models import model_path
from soundloop.settings import EncoderSettings
from soundloop.v1 import interaction_pb2 as api

RATE = sources.RATE
CHUNK = RATE // 10
LEAD_S = 1.0
TAIL_S = 1.5
CONDITIONS = ("quiet", "snr20", "snr10", "snr5", "speech", "g711")
SENTENCES = ("Can you hold on for a moment?", "What were we talking about?", "I was reading the letter again.",
             "Let me find the number for you.")
SEED = 20261203


@dataclasses.dataclass
class Outcome:
    sound: str
    domain: str
    respond: bool
    split: str
    condition: str
    reacted: bool
    label: str  # the label that triggered the reaction (or the top ignored one)
    latency_ms: float | None

    @property
    def correct(self) -> bool:
        return self.reacted == self.respond


def _hear(sound: sound_bank.EventSound, condition: str, rng: np.random.Generator) -> np.ndarray:
    clip = sound_bank.audio(sound.name)
    lead, tail = np.zeros(int(LEAD_S * RATE), np.float32), np.zeros(int(TAIL_S * RATE), np.float32)
    if condition == "speech":
        clip = sources.under_speech(clip, sources.speak(SENTENCES[rng.integers(len(SENTENCES))],
                                                        sources.VOICES[rng.integers(4)]))
    audio = np.concatenate([lead, clip, tail])
    if condition.startswith("snr"):
        # Noise over the whole line, its level set against the sound's active power (silence is not counted).
        audio = sources.mix_noise(audio, float(condition[3:]), rng)
    if condition == "g711":
        audio = codec.through_phone_line(audio, RATE)
    return np.clip(audio, -1, 1).astype(np.float32)


def _listen(tagger: sound_events.YamnetTagger, audio: np.ndarray, hop_frames: int, report: float,
            settings: SoundSettings) -> list[tuple[int, sound_reaction.SoundReaction]]:
    """(end sample of the chunk, reaction) for every chunk whose tags the policy reacts to or ignores."""
    stream, heard = sound_events.SoundStream(), []
    for start in range(0, len(audio), CHUNK):
        piece = audio[start:start + CHUNK]
        end = start + len(piece)
        tags = sound_events.advance(tagger, stream, piece, end, hop_frames, report)
        protos = [encoder_pb2.SoundTag(label=t.label, score=t.score, start_sample=t.start_sample,
                                       end_sample=t.end_sample) for t in tags]
        reaction = sound_reaction.react(protos, settings, end * 1000 // RATE, 0)
        if reaction is not None:
            heard.append((end, reaction))
    return heard


def evaluate(sounds: tuple[sound_bank.EventSound, ...], conditions: tuple[str, ...] = CONDITIONS,
             hop_ms: int | None = None) -> list[Outcome]:
    tagger = sound_events.YamnetTagger(model_path("yamnet", "model.onnx"), model_path("yamnet", "yamnet_class_map.csv"))
    enc = EncoderSettings()
    hop_frames = sound_events.hop_frames(hop_ms or enc.sound_hop_ms)
    settings = resolve_sound(api.SoundPolicy())
    rng = np.random.default_rng(SEED)
    outcomes = []
    for sound in sounds:
        for condition in conditions:
            audio = _hear(sound, condition, rng)
            onset = int(LEAD_S * RATE)
            deadline = onset + len(sound_bank.audio(sound.name)) + int(TAIL_S * RATE)
            heard = _listen(tagger, audio, hop_frames, enc.sound_report_threshold, settings)
            reactions = [(end, r) for end, r in heard if r.respond and end <= deadline]
            if reactions:
                end, first = reactions[0]
                outcomes.append(Outcome(sound.name, sound.domain, sound.respond, sound.split, condition, True,
                                        first.tag.label, max(0.0, (end - onset) * 1000 / RATE)))
            else:
                top = max((r.tag for _, r in heard), key=lambda t: t.score, default=None)
                outcomes.append(Outcome(sound.name, sound.domain, sound.respond, sound.split, condition, False,
                                        top.label if top else "", None))
    return outcomes


def _rate(items: list[Outcome]) -> str:
    return f"{sum(o.correct for o in items) / len(items):.2f} ({sum(o.correct for o in items)}/{len(items)})" \
        if items else "-"


def table(outcomes: list[Outcome]) -> str:
    """Markdown: respond recall and ignore accuracy by split x condition and by split x domain."""
    lines = []
    for split in sound_bank.SPLITS:
        mine = [o for o in outcomes if o.split == split]
        if not mine:
            continue
        lines += [f"### {split} split ({len({o.sound for o in mine})} sounds)", "",
                  "| condition | respond recall | ignore accuracy | reaction p50 / p95 ms |", "|---|---|---|---|"]
        for condition in (*CONDITIONS, "all"):
            rows = [o for o in mine if condition in ("all", o.condition)]
            if not rows:
                continue
            lat = [o.latency_ms for o in rows if o.respond and o.latency_ms is not None]
            p = f"{np.percentile(lat, 50):.0f} / {np.percentile(lat, 95):.0f}" if lat else "-"
            lines.append(f"| {condition} | {_rate([o for o in rows if o.respond])} | "
                         f"{_rate([o for o in rows if not o.respond])} | {p} |")
        lines += ["", "| domain | respond recall | ignore accuracy |", "|---|---|---|"]
        for domain in sound_bank.DOMAINS:
            rows = [o for o in mine if o.domain == domain]
            lines.append(f"| {domain} | {_rate([o for o in rows if o.respond])} | "
                         f"{_rate([o for o in rows if not o.respond])} |")
        misses = collections.Counter(f"{o.sound} ({o.label or 'nothing'})" for o in mine if not o.correct)
        lines += ["", "Wrong decisions (sound, label heard; count over conditions): "
                  + (", ".join(f"{k} x{v}" for k, v in misses.most_common()) or "none"), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=(*sound_bank.SPLITS, "both"), default="both")
    parser.add_argument("--hop-ms", type=int, help="time between tagging windows (default: the encoder's "
                        "sound_hop_ms)")
    parser.add_argument("--out", type=pathlib.Path, help="also write the outcomes as JSON here")
    args = parser.parse_args(argv)
    sound_bank.fetch()
    outcomes = evaluate(sound_bank.select(None if args.split == "both" else args.split), hop_ms=args.hop_ms)
    print(table(outcomes))
    if args.out:
        args.out.write_text(json.dumps([dataclasses.asdict(o) for o in outcomes], indent=1))


if __name__ == "__main__":
    main()
