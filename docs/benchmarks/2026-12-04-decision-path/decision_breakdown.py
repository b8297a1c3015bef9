"""Where a turn-taking call's decision time goes, as the client sees it (process mode, real stages).

    PYTHONPATH=. python docs/benchmarks/2026-12-04-decision-path/decision_breakdown.py light turn- 12

For each call, in ms after the scenario's labelled end of speech: the VAD's end-of-speech sample
(SpeechStopped's audio offset), when the client first received the words the decision was taken on
(a transcript event with the same text), the audio offset of the chunk the RESPOND decision was taken on,
when the client received that decision, and each transcript event (arrival, audio offset, text).
Audio is streamed at real time, so an audio offset is also (about) when that audio was sent.
"""
from __future__ import annotations

import asyncio
import statistics
import sys

from bench import scenarios
from bench.systems import soundloop_system
from soundloop.client import converse
from soundloop.local_redis import local_redis_server
from soundloop.local_stack import local_stack
from soundloop.v1 import interaction_pb2 as pb


def _offset_s(event) -> float:
    return event.event.audio_offset.seconds + event.event.audio_offset.nanos / 1e9


async def _call(address: str, scenario: scenarios.Scenario) -> dict | None:
    record = await converse(address, soundloop_system.session_config(scenario), soundloop_system.script(scenario))
    decision = next((e for e in record.of("decision") if e.event.decision.action == pb.ACTION_RESPOND), None)
    if decision is None:
        return None
    end = scenario.speech_end_s
    stops = [_offset_s(e) - end for e in record.of("speech_stopped")]
    transcripts = record.of("transcript")
    decided = next((e.event.transcript.text for e in reversed(transcripts) if e.at <= decision.at + 0.05), None)
    # The words the decision was taken on, first received (after the caller's last onset, 0.5 s before the end).
    ready = next((e.at - end for e in transcripts if e.event.transcript.text == decided and e.at - end > -0.5),
                 float("nan"))
    return {"vad_end": min((s for s in stops if s > -0.5), default=float("nan")), "words_ready": ready,
            "decision_chunk": _offset_s(decision) - end, "decision_received": decision.at - end,
            "transcripts": [(round((e.at - end) * 1000), round((_offset_s(e) - end) * 1000), e.event.transcript.text)
                            for e in record.of("transcript")]}


def main(profile: str, prefix: str, count: int) -> None:
    chosen = [s for s in scenarios.build() if s.id.startswith(prefix)][:count]
    rows = []
    with local_redis_server() as url, local_stack(profile, url) as stack:
        for scenario in chosen:
            row = asyncio.run(_call(stack.gateway_address, scenario))
            if row is None:
                print(scenario.id, "no RESPOND decision")
                continue
            rows.append(row)
            print(scenario.id, {k: round(v * 1000) if v == v else None for k, v in row.items() if k != "transcripts"},
                  "transcripts (received, offset, text):", row["transcripts"], flush=True)
    for key in ("vad_end", "words_ready", "decision_chunk", "decision_received"):
        print(f"{key} p50 ms: {statistics.median(r[key] for r in rows if r[key] == r[key]) * 1000:.0f}")  # NaN: none


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
