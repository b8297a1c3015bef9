"""Session affinity of the LLM stage under Ray Serve: does a session's next turn reach the replica that
holds its KV cache?

    python -m bench.llm_affinity [--profile light] [--sessions 6] [--turns 4] [--out bench-out/llm-affinity]

Two Llm replicas (the profile's model each), sessions taking turns round-robin, one request at a time;
each request is the whole conversation so far plus a new question, as the gateway sends it. Two arms in
the same invocation, their sessions interleaved on the same replicas:
  affinity  through the gateway's ServeStageClients, which names the session as Serve's multiplexed
            model id (services/llm/deployment.py), so Serve routes it to the replica holding it;
  default   the same request on a plain streaming handle: Serve's default routing (fewest requests
            in flight, here a coin toss between two idle replicas).
Reported: time to the first streamed token of turns 2.. (turn 1 is a cold prefill in both arms),
p50 / p95, and affinity / default. One replica needs no affinity; this is what a second one costs
a session without it.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import pathlib
import time

from bench.child_process import in_child
from bench.scoring import summary

QUESTIONS = (
    "What is the capital of France?", "How many legs does a spider have?", "What colour is the sky?",
    "Name a fruit that is yellow.", "What is two plus three?", "Which planet is closest to the sun?",
    "What do bees make?", "How many days are in a week?", "What is frozen water called?",
)
SYSTEM = ("You are a helpful voice assistant on a phone line. Answer in one short sentence, "
          "plainly, without lists or markdown, as a person would say it aloud.")


async def _turn(stream, request) -> tuple[float, str]:
    started, first, text = time.perf_counter(), None, []
    async for item in stream(request):
        if first is None:
            first = time.perf_counter() - started
        text.append(item.delta)
    return first, "".join(text)


async def _run(handle, sessions: int, turns: int) -> dict[str, list[float]]:
    from services.gateway.stage_clients import ServeStageClients
    from soundloop.llm.v1 import llm_pb2

    affinity = ServeStageClients(None, handle, None, None).generate

    def default(request):
        return handle.options(stream=True).generate.remote(request)

    arms = {"affinity": affinity, "default": default}
    history = {(arm, s): [llm_pb2.ChatMessage(role=llm_pb2.ROLE_SYSTEM, content=SYSTEM)]
               for arm in arms for s in range(sessions)}
    ttft: dict[str, list[float]] = {arm: [] for arm in arms}
    for turn in range(turns):
        for s in range(sessions):
            for arm, stream in arms.items():
                messages = history[(arm, s)]
                question = QUESTIONS[(s + turn) % len(QUESTIONS)]
                messages.append(llm_pb2.ChatMessage(role=llm_pb2.ROLE_USER, content=question))
                request = llm_pb2.GenerateRequest(session_id=f"{arm}-{s}", turn_id=f"turn-{turn}",
                                                  messages=messages, max_tokens=24)
                first, reply = await _turn(stream, request)
                messages.append(llm_pb2.ChatMessage(role=llm_pb2.ROLE_ASSISTANT, content=reply))
                if turn:
                    ttft[arm].append(first)
    return ttft


def measure(profile: str, sessions: int, turns: int) -> dict:
    import ray
    from ray import serve

    from services.llm.deployment import LlmDeployment

    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    try:
        app = LlmDeployment.options(num_replicas=2, ray_actor_options={"num_cpus": 1}).bind({"profile": profile})
        handle = serve.run(app, name="llm-affinity", route_prefix=None)
        ttft = asyncio.run(_run(handle, sessions, turns))
    finally:
        serve.shutdown()
        ray.shutdown()
    return {arm: summary(values) for arm, values in ttft.items()}


def report(result: dict, profile: str, sessions: int, turns: int) -> str:
    a, d = result["affinity"], result["default"]
    return "\n".join([
        f"# LLM session affinity under Serve ({profile} profile, 2 Llm replicas, {sessions} sessions per arm, "
        f"{turns} turns)", "",
        "Time to first token of turns 2.. (ms):", "",
        "| arm | n | p50 | p95 |", "|---|---|---|---|",
        f"| affinity (session id as multiplexed model id) | {a['n']} | {a['p50_ms']} | {a['p95_ms']} |",
        f"| default routing | {d['n']} | {d['p50_ms']} | {d['p95_ms']} |",
        "", f"affinity / default: p50 {a['p50_ms'] / d['p50_ms']:.2f}, p95 {a['p95_ms'] / d['p95_ms']:.2f}", ""])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=("light", "default"), default="light")
    parser.add_argument("--sessions", type=int, default=6)
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--out", default="bench-out/llm-affinity")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.turns < 2:
        parser.error("--sessions at least 1, --turns at least 2 (turn 1 is not measured)")
    result = in_child(measure, args.profile, args.sessions, args.turns)  # Ray's workers die with the child
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "llm_affinity.json").write_text(json.dumps({"profile": args.profile, "sessions": args.sessions,
                                                        "turns": args.turns, "result": result}, indent=1))
    text = report(result, args.profile, args.sessions, args.turns)
    (out / "llm_affinity.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
