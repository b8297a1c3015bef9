"""Summarises the LLM stage's generations in bench.run --out folders, from its log.

    python llm_log_stats.py before after

The stage logs each generation's stats at DEBUG; these runs used a stage patched to log them at INFO
with the request's max_tokens and start time (see README.md).
"""
import glob
import json
import re
import statistics
import sys

LINE = re.compile(r"max_tokens=(\d+) started=([\d.]+) now=([\d.]+) GenerationStats\((.*)\)")


def generations(folder: str) -> list[dict]:
    out = []
    for line in open(glob.glob(f"{folder}/logs/*/llm.log")[0]):
        try:
            message = json.loads(line)["message"]
        except (ValueError, KeyError):
            continue
        if match := LINE.search(message):
            stats = dict(kv.split("=", 1) for kv in match.group(4).split(", "))
            out.append({"max_tokens": int(match.group(1)), "start": float(match.group(2)),
                        "end": float(match.group(3)), "cancelled": "cancelled" in message,
                        "first_token_s": None if stats["first_token_s"] == "None" else float(stats["first_token_s"])})
    return out


for folder in sys.argv[1:]:
    gens = generations(folder)
    replies = [g for g in gens if g["max_tokens"] > 1]
    prefills = [g for g in gens if g["max_tokens"] == 1]
    ttft = sorted(g["first_token_s"] for g in replies if g["first_token_s"] is not None)
    blocked = sum(any(p["start"] < r["start"] < p["end"] for p in prefills) for r in replies)
    print(f"{folder}: replies {len(replies)}, prefills {len(prefills)} "
          f"({sum(p['cancelled'] for p in prefills)} cancelled), replies started during a prefill {blocked}, "
          f"first token p50 {statistics.median(ttft):.3f} s, p90 {ttft[int(0.9 * len(ttft))]:.3f} s")
