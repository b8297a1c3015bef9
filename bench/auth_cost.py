"""What authentication and TLS cost a caller: the gateway's public API with no security (the local
development mode, the baseline), API keys, API keys over TLS, and over mTLS, in one invocation.

    python -m bench.auth_cost [--calls 400] [--connections 40]

Per mode, a real gateway (in this process, real Redis, real gRPC on loopback) answers:
- `calls` Transcribe calls on one open connection: what every call pays (the key check);
- `connections` new connections with one call each: what opening a connection pays (the handshake).
The stages behind it answer at once (`InstantStages`), so the figures are the gateway's and gRPC's
own, not the models' (a live turn's models take ~0.5-3 s on 2 cores). Medians and p95 in ms, and
ratios against the baseline run in the same invocation.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import pathlib
import statistics
import tempfile
import time

import numpy as np

from services.gateway.access import key_digest
from services.gateway.server import start_gateway
from soundloop import dev_certs
from soundloop.client import auth_metadata, channel
from soundloop.decider.v1 import decider_pb2
from soundloop.encoder.v1 import encoder_pb2
from soundloop.llm.v1 import llm_pb2
from soundloop.local_redis import local_redis_server
from soundloop.settings import SecuritySettings, Settings
from soundloop.tts.v1 import tts_pb2
from soundloop.v1 import audio_pb2, interaction_pb2 as pb, interaction_pb2_grpc

API_KEY = "bench-key-" + "0" * 32
CLIP = pb.TranscribeRequest(audio_format=audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE,
                                                               sample_rate_hz=16000),
                            audio=np.zeros(1600, np.int16).tobytes())  # 100 ms


class InstantStages:
    """Stages that answer every call at once with an empty result: only the gateway's path is timed."""

    async def analyze_chunk(self, req):
        return encoder_pb2.AnalyzeChunkResponse()

    async def transcribe_utterance(self, req):
        return encoder_pb2.TranscribeUtteranceResponse()

    async def transcribe_clip(self, req):
        return encoder_pb2.TranscribeClipResponse(duration_ms=100)

    async def decide(self, req):
        return decider_pb2.DecideResponse()

    async def generate(self, req):
        yield llm_pb2.GenerateResponse(finish_reason=llm_pb2.FINISH_REASON_STOP)

    async def synthesize(self, req):
        yield tts_pb2.SynthesizeResponse()

    async def close(self):
        return None


def _modes(folder: pathlib.Path) -> dict[str, tuple[SecuritySettings, dict]]:
    tenants = folder / "tenants.json"
    tenants.write_text(json.dumps({"tenants": [{"name": "bench", "api_key_sha256": [key_digest(API_KEY)]}]}))
    files = dev_certs.issue_set(folder / "tls")
    tls = dict(tls_cert_file=files["server_crt"], tls_key_file=files["server_key"])
    return {
        "open (plaintext, no key)": (SecuritySettings(plaintext=True, anonymous=True), {}),
        "API key": (SecuritySettings(plaintext=True, tenants_file=str(tenants)), {}),
        "API key + TLS": (SecuritySettings(tenants_file=str(tenants), **tls), {"tls_ca": files["ca"]}),
        "API key + mTLS": (SecuritySettings(tenants_file=str(tenants), tls_client_ca_file=files["ca"], **tls),
                           {"tls_ca": files["ca"], "tls_cert": files["client_crt"], "tls_key": files["client_key"]}),
    }


async def _measure(redis_url: str, security: SecuritySettings, tls: dict, calls: int, connections: int):
    gateway = await start_gateway(Settings(redis_url=redis_url, security=security), InstantStages(), "127.0.0.1:0")
    address = f"127.0.0.1:{gateway.port}"
    metadata = auth_metadata(API_KEY) if security.tenants_file else None
    try:
        per_call = []
        async with channel(address, **tls) as ch:
            stub = interaction_pb2_grpc.InteractionStub(ch)
            for i in range(calls + 20):
                started = time.perf_counter()
                await stub.Transcribe(CLIP, metadata=metadata)
                if i >= 20:  # the first ones open the connection and warm caches
                    per_call.append((time.perf_counter() - started) * 1000)
        per_connection = []
        for _ in range(connections):
            started = time.perf_counter()
            async with channel(address, **tls) as ch:
                await interaction_pb2_grpc.InteractionStub(ch).Transcribe(CLIP, metadata=metadata)
            per_connection.append((time.perf_counter() - started) * 1000)
        return per_call, per_connection
    finally:
        await gateway.stop(grace_s=0)


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


async def _run(calls: int, connections: int) -> str:
    with tempfile.TemporaryDirectory(prefix="soundloop-auth-cost-") as folder, local_redis_server() as redis_url:
        results = {}
        for name, (security, tls) in _modes(pathlib.Path(folder)).items():
            results[name] = await _measure(redis_url, security, tls, calls, connections)
    base_call, base_conn = (statistics.median(v) for v in next(iter(results.values())))
    lines = [f"Transcribe of a 100 ms clip, stages answering at once: {calls} calls on one connection, "
             f"{connections} new connections (one call each)", "",
             "| mode | per call p50 | p95 | ratio p50 | new connection + call p50 | p95 | ratio p50 |",
             "|---|---|---|---|---|---|---|"]
    for name, (per_call, per_conn) in results.items():
        lines.append(f"| {name} | {_p(per_call, 50):.2f} ms | {_p(per_call, 95):.2f} ms | "
                     f"{statistics.median(per_call) / base_call:.2f} | {_p(per_conn, 50):.1f} ms | "
                     f"{_p(per_conn, 95):.1f} ms | {statistics.median(per_conn) / base_conn:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--connections", type=int, default=40)
    parser.add_argument("--out", default="bench-out/auth-cost.md")
    args = parser.parse_args()
    table = asyncio.run(_run(args.calls, args.connections))
    print(table)
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table + "\n")


if __name__ == "__main__":
    main()
