"""Pause calls, event by event: when the caller resumed, when soundloop decided to answer (and the
learned model's p in the decision's reason), and when the first reply audio reached the client.

    PYTHONPATH=. python docs/benchmarks/2026-12-05-model-threshold/takeover_probe.py default pause-001,pause-020

Process mode, the profile's servers started once; times in s on the call's clock (`off`: the event's
audio offset, `at`: when the client received it).
"""
from __future__ import annotations

import asyncio
import sys

from bench import scenarios
from bench.systems import soundloop_system
from soundloop.client import converse
from soundloop.local_redis import local_redis_server
from soundloop.local_stack import local_stack
from soundloop.v1 import interaction_pb2 as pb


def _offset_s(event) -> float:
    return event.event.audio_offset.seconds + event.event.audio_offset.nanos / 1e9


async def _call(address: str, scenario: scenarios.Scenario) -> None:
    record = await converse(address, soundloop_system.session_config(scenario), soundloop_system.script(scenario))
    start, end = scenario.pause_s or (0.0, 0.0)
    lines = [f"{scenario.id} pause {start:.2f}-{end:.2f} speech end {scenario.speech_end_s:.2f}"]
    for kind in ("speech_started", "speech_stopped", "decision", "reply_audio"):
        for e in record.of(kind):
            where = f"off {_offset_s(e):.3f} at {e.at:.3f}"
            if kind == "decision" and e.event.decision.action != pb.ACTION_KEEP_LISTENING:
                lines.append(f"  decision       {where} {pb.Action.Name(e.event.decision.action)} "
                             f"{e.event.decision.reason[:70]}")
            elif kind == "reply_audio":
                lines.append(f"  first audio    {where} {e.event.reply_audio.turn_id}")
                break
            elif kind != "decision":
                lines.append(f"  {kind:14s} {where}")
    print("\n".join(lines), flush=True)


def main(profile: str, ids: list[str]) -> None:
    chosen = [s for s in scenarios.build() if s.id in ids]
    with local_redis_server() as url, local_stack(profile, url) as stack:
        for scenario in chosen:
            asyncio.run(_call(stack.gateway_address, scenario))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2].split(","))
