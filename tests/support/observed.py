"""What the observability tests check of one real turn, in process mode and under Ray Serve alike:
the trace an OTLP receiver got from the five processes, and Prometheus samples scraped from them."""
from __future__ import annotations

import time
import urllib.request

from soundloop import telemetry

SERVICES = {"soundloop-gateway", "soundloop-encoder", "soundloop-decider", "soundloop-llm", "soundloop-tts"}


def attrs(span) -> dict:
    return {a.key: next(iter(a.value.ListFields()))[1] if a.value.ListFields() else None for a in span.attributes}


def wait_for_trace(received, trace_id: str, within_s: float = 15) -> list[tuple[str, object]]:
    """The trace's spans once the session's, the LLM's and the TTS's have arrived (processes export in batches)."""
    deadline = time.monotonic() + within_s
    while True:
        mine = received.trace(trace_id)
        names = {s.name for _, s in mine}
        if {telemetry.SESSION, telemetry.LLM_GENERATE_STAGE, telemetry.TTS_SYNTHESIZE} <= names \
                or time.monotonic() > deadline:
            return mine
        time.sleep(0.2)


def assert_one_trace_across_the_processes(received, mine: list[tuple[str, object]], parent_id: str,
                                          record) -> None:
    """One turn's spans: from all five processes (each naming its instance), under the caller's
    traceparent, parented session -> turn -> stage work, with the attributes an SRE searches by."""
    session_id = record.of("session_started")[0].event.session_started.session_id
    (turn_id,) = {e.event.turn_started.turn_id for e in record.of("turn_started")}
    assert {service for service, _ in mine} == SERVICES, sorted({(service, s.name) for service, s in mine})
    assert all(received.instances[service] - {""} for service in SERVICES), received.instances

    by_name: dict[str, list] = {}
    for service, span in mine:
        by_name.setdefault(span.name, []).append((service, span))
    (session,) = [s for _, s in by_name[telemetry.SESSION]]
    assert session.parent_span_id.hex() == parent_id  # the caller's span is the session's parent
    assert attrs(session)[telemetry.SESSION_ID] == session_id
    (turn,) = [s for _, s in by_name[telemetry.TURN]]
    assert turn.parent_span_id == session.span_id
    assert attrs(turn)[telemetry.TURN_ID] == turn_id

    # The reply's LLM call: a child of the turn, or of the session when it was speculated (started on the
    # caller's words before the decision, then adopted by the turn).
    generate = [s for _, s in by_name[telemetry.LLM_GENERATE_STAGE]
                if s.parent_span_id in (turn.span_id, session.span_id)]
    assert generate
    llm = attrs(generate[-1])
    assert llm[telemetry.GEN_AI_MODEL] and llm[telemetry.GEN_AI_OUTPUT_TOKENS] > 0
    assert llm[telemetry.SESSION_ID] == session_id
    synth = [s for _, s in by_name[telemetry.TTS_SYNTHESIZE] if s.parent_span_id == turn.span_id]
    assert synth, "the reply's speech is synthesized under the turn"
    assert attrs(synth[0])[telemetry.TTS_CHARACTERS] > 0 and attrs(synth[0])[telemetry.TURN_ID] == turn_id
    (recognized, *_) = [s for _, s in by_name[telemetry.ENCODER_TRANSCRIBE]]
    assert recognized.parent_span_id in (session.span_id, turn.span_id)
    assert attrs(recognized)[telemetry.AUDIO_SECONDS] > 0.5 and attrs(recognized)[telemetry.SESSION_ID] == session_id
    decisions = [attrs(s) for _, s in by_name[telemetry.DECIDER_DECIDE]]
    assert "ACTION_RESPOND" in {d[telemetry.DECISION_ACTION] for d in decisions}
    # Per-chunk calls make no spans: a handful of decisions, not ten a second.
    assert len(decisions) < 10
    for service, span in mine:
        assert span.end_time_unix_nano >= span.start_time_unix_nano, (service, span.name)


def scrape(port: int) -> dict[str, float]:
    """Prometheus text format -> {'name{labels}': value} (comments dropped)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def total(samples: dict[str, float], name: str, **labels: str) -> float:
    """The sum of `name` over the series whose labels include `labels`."""
    want = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(v for series, v in samples.items()
               if series.split("{")[0] == name and all(w in series for w in want))


# Per process: what one answered spoken question must move, as (metric, labels, at least).
GATEWAY_MOVES = [
    ("soundloop_turn_voice_to_voice_seconds_count", {}, 1),
    ("soundloop_turn_voice_to_voice_seconds_bucket", {"le": "10.0"}, 1),
    ("soundloop_turn_end_of_speech_to_decision_seconds_count", {}, 1),
    ("soundloop_stage_call_duration_seconds_count", {"stage": "encoder", "method": "AnalyzeChunk"}, 10),
    ("soundloop_stage_call_duration_seconds_count", {"stage": "llm", "method": "Generate"}, 1),
    ("soundloop_sessions_total", {"outcome": "started"}, 1),
    ("soundloop_decisions_total", {"action": "ACTION_RESPOND"}, 1),
    ("soundloop_redis_operation_duration_seconds_count", {"operation": "save_progress"}, 1),
]
STAGE_WORK = {"encoder": "transcribe_utterance", "llm": "generate", "decider": "decide", "tts": "synthesize"}


def stage_moves(stage: str) -> list[tuple[str, dict[str, str], float]]:
    return [("soundloop_stage_work_duration_seconds_count", {"stage": stage, "operation": STAGE_WORK[stage]}, 1)]


def shortfalls(samples: dict[str, float], moves, prefix: str = "") -> list[str]:
    """The expected movements that did not happen (empty: all did)."""
    return [f"{prefix}{name}{labels}: {total(samples, prefix + name, **labels)} < {least}"
            for name, labels, least in moves if total(samples, prefix + name, **labels) < least]
