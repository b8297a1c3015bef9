"""Is the LLM stage itself slower under Ray Serve than as a plain gRPC process?

    python -m bench.llm_paths [--profile default] [--rounds 3] [--serve-defaults] [--out bench-out/llm-paths]

The same model loads twice: as one Llm replica of Ray Serve (services/llm/deployment.py with the
profile's Serve config: its runtime_env, Serve knobs and the Llm deployment's options; reached through
a streaming DeploymentHandle, as the gateway reaches it) and as the stage's gRPC server
(services/llm/server.py, as process mode and docker-compose run it). The same requests (a system
prompt and one spoken-style question, a fresh session each, so every one prefills the question) go
to each in turn, one at a time, the arms alternating which goes first; the other arm is idle
meanwhile. Reported per arm: time to the first streamed text and decode speed (tokens after the
first over the time after it), p50 / p95, and Serve / process.

This separates the stage from the rest of the Serve app: if the replica is as fast as the process,
what the whole app loses under Serve comes from elsewhere (the other Ray processes sharing the
cores, handle traffic per chunk), not from the model running inside a Ray actor. --serve-defaults
leaves out the config's runtime_env and Serve knobs (Serve as installed), to show what they are worth.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

from bench.child_process import in_child
from bench.llm_affinity import QUESTIONS, SYSTEM
from bench.scoring import summary

ARMS = ("serve", "process")


def _request(question: str, session: str):
    from soundloop.llm.v1 import llm_pb2

    return llm_pb2.GenerateRequest(session_id=session, turn_id="turn-1", max_tokens=40, temperature=0.0, messages=[
        llm_pb2.ChatMessage(role=llm_pb2.ROLE_SYSTEM, content=SYSTEM),
        llm_pb2.ChatMessage(role=llm_pb2.ROLE_USER, content=question)])


async def _timed(stream) -> tuple[float, float | None]:
    """(seconds to the first text, tokens per second after it; None for a one-token reply)."""
    started, first, tokens = time.perf_counter(), None, 0
    async for item in stream:
        if item.delta and first is None:
            first = time.perf_counter()
        tokens = item.completion_tokens or tokens
    done = time.perf_counter()
    rate = (tokens - 1) / (done - first) if first is not None and tokens > 1 and done > first else None
    return (first or done) - started, rate


async def _run(handle, address: str, rounds: int) -> dict[str, dict[str, list[float]]]:
    import grpc

    from soundloop.llm.v1 import llm_pb2_grpc

    async with grpc.aio.insecure_channel(address) as channel:
        stub = llm_pb2_grpc.LlmStub(channel)
        streams = {"serve": lambda r: handle.options(stream=True).generate.remote(r), "process": stub.Generate}
        out = {arm: {"first_text_s": [], "tokens_per_s": []} for arm in ARMS}
        for i, question in enumerate(QUESTIONS * rounds):
            for arm in (ARMS if i % 2 == 0 else ARMS[::-1]):
                first, rate = await _timed(streams[arm](_request(question, f"{arm}-{i}")))
                if i >= len(ARMS):  # the first request of each arm warms its caches; not counted
                    out[arm]["first_text_s"].append(first)
                    if rate is not None:
                        out[arm]["tokens_per_s"].append(rate)
    return out


def measure(profile: str, rounds: int, serve_defaults: bool = False) -> dict:
    import ray
    from ray import serve

    from services.llm.deployment import LlmDeployment
    from soundloop.local_redis import free_port
    from soundloop.local_stack import wait_serving
    from soundloop.serve_runner import load_serve_config, node_env

    port = free_port()
    env = {**os.environ, "SOUNDLOOP_PROFILE": profile}
    server = subprocess.Popen([sys.executable, "-m", "services.llm.server", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # As the profile's Serve config runs it: its runtime_env on the replica, its Serve knobs on the node.
    config = load_serve_config(profile)
    app_env = {} if serve_defaults else config["applications"][0].get("runtime_env", {}).get("env_vars", {})
    for key, value in ({} if serve_defaults else node_env(config)).items():
        os.environ.setdefault(key, value)
    llm = next(d for d in config["applications"][0]["deployments"] if d["name"] == "Llm")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        app = LlmDeployment.options(num_replicas=1, max_ongoing_requests=llm["max_ongoing_requests"],
                                    ray_actor_options={**llm["ray_actor_options"], "runtime_env": {"env_vars": app_env}}
                                    ).bind({"profile": profile})
        handle = serve.run(app, name="llm-paths", route_prefix=None)
        wait_serving(f"127.0.0.1:{port}", 180, server, "llm")
        raw = asyncio.run(_run(handle, f"127.0.0.1:{port}", rounds))
    finally:
        serve.shutdown()
        ray.shutdown()
        server.terminate()
        server.wait(15)
    return {arm: {"first_text": summary(v["first_text_s"]),
                  "tokens_per_s_p50": round(statistics.median(v["tokens_per_s"]), 1) if v["tokens_per_s"] else None}
            for arm, v in raw.items()}


def report(result: dict, profile: str, serve_defaults: bool = False) -> str:
    s, p = result["serve"], result["process"]
    rows = [f"| {arm} | {r['first_text']['n']} | {r['first_text']['p50_ms']} | {r['first_text']['p95_ms']} | "
            f"{r['tokens_per_s_p50']} |" for arm, r in result.items()]
    return "\n".join([
        f"# The LLM stage under Serve and as a process ({profile} profile, one request at a time, "
        f"{'Serve as installed' if serve_defaults else 'the Serve config of deploy/serve'})", "",
        "| arm | n | first text p50 ms | p95 ms | decode tokens/s p50 |", "|---|---|---|---|---|", *rows, "",
        f"Serve / process: first text p50 {s['first_text']['p50_ms'] / p['first_text']['p50_ms']:.2f}, "
        f"decode {s['tokens_per_s_p50'] / p['tokens_per_s_p50']:.2f}", ""])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=("light", "default"), default="default")
    parser.add_argument("--rounds", type=int, default=3, help="times through the question list")
    parser.add_argument("--serve-defaults", action="store_true",
                        help="Serve as installed: without the config's runtime_env and Serve knobs")
    parser.add_argument("--out", default="bench-out/llm-paths")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds at least 1")
    result = in_child(measure, args.profile, args.rounds, args.serve_defaults)  # Ray's workers die with the child
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "llm_paths.json").write_text(json.dumps({"profile": args.profile, "rounds": args.rounds,
                                                     "serve_defaults": args.serve_defaults, "result": result},
                                                    indent=1))
    text = report(result, args.profile, args.serve_defaults)
    (out / "llm_paths.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
