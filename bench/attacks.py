"""The attacks on the public API that soundloop must refuse, tried through the real gRPC API of a real
gateway (real Redis, TLS with a client CA, two tenants), and what each got. Prints a markdown table.

    python -m bench.attacks

The stages behind the gateway answer at once (bench.auth_cost.InstantStages): these attacks are
the gateway's to refuse. Prompt injection through a clip's speech needs the real models:
`python -m bench.prompt_injection`.
"""
from __future__ import annotations

import asyncio
import json
import pathlib
import tempfile

import grpc
import numpy as np
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from bench.auth_cost import InstantStages
from services.gateway.access import key_digest
from services.gateway.server import start_gateway
from soundloop import dev_certs
from soundloop.client import auth_metadata, channel
from soundloop.local_redis import local_redis_server
from soundloop.settings import SecuritySettings, Settings
from soundloop.v1 import audio_pb2, interaction_pb2 as pb, interaction_pb2_grpc

PCM16K = audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=16000)
KEY_A, KEY_B = "tenant-a-" + "1" * 32, "tenant-b-" + "2" * 32
CLIP = dict(audio_format=PCM16K, audio=np.zeros(16000 * 2, np.int16).tobytes())


async def _converse(ch, config: pb.SessionConfig, metadata=None, hold: asyncio.Event | None = None):
    """Opens a session; returns (status, events) once it ends, or at `hold` (then it is cancelled)."""
    async def requests():
        yield pb.ConverseRequest(config=config)
        await (hold.wait() if hold else asyncio.sleep(0.3))
        yield pb.ConverseRequest(end_of_input=pb.EndOfInput())
    call = interaction_pb2_grpc.InteractionStub(ch).Converse(requests(), metadata=metadata)
    events = []
    try:
        async for event in call:
            events.append(event)
    except grpc.aio.AioRpcError as err:
        return err.code().name, err.details(), events
    return "OK", "", events


async def _unary(method, request, **kwargs):
    try:
        await method(request, **kwargs)
        return "OK", ""
    except grpc.aio.AioRpcError as err:
        return err.code().name, err.details()


async def _attacks(redis_url: str, folder: pathlib.Path) -> list[tuple[str, str, str]]:
    files = dev_certs.issue_set(folder / "tls")
    tenants = folder / "tenants.json"
    tenants.write_text(json.dumps({"tenants": [
        {"name": "a", "api_key_sha256": [key_digest(KEY_A)], "max_sessions": 1, "offline_minutes_per_hour": 0.05,
         "caller_instructions_max_chars": 500},
        {"name": "b", "api_key_sha256": [key_digest(KEY_B)], "caller_instructions": "refused"}]}))
    security = SecuritySettings(tenants_file=str(tenants), tls_cert_file=files["server_crt"],
                                tls_key_file=files["server_key"], tls_client_ca_file=files["ca"], reflection=False)
    gateway = await start_gateway(Settings(redis_url=redis_url, security=security), InstantStages(), "127.0.0.1:0")
    address = f"127.0.0.1:{gateway.port}"
    mtls = dict(tls_ca=files["ca"], tls_cert=files["client_crt"], tls_key=files["client_key"])
    a, b = auth_metadata(KEY_A), auth_metadata(KEY_B)
    rows = []

    def row(attack: str, outcome: tuple) -> None:
        rows.append((attack, outcome[0], outcome[1]))
    try:
        async with channel(address, **mtls) as ch:
            stub = interaction_pb2_grpc.InteractionStub(ch)
            config = pb.SessionConfig(input_audio=PCM16K)
            row("Converse without credentials", (await _converse(ch, config))[:2])
            row("Transcribe with a wrong API key", await _unary(stub.Transcribe, pb.TranscribeRequest(**CLIP),
                                                                metadata=(("authorization", "Bearer guess"),)))
            row("AnswerAboutClip with the key but no `Bearer`",
                await _unary(stub.AnswerAboutClip, pb.AnswerAboutClipRequest(**CLIP),
                             metadata=(("authorization", KEY_A),)))
            *_, events = await _converse(ch, config, a)
            token = next(e.session_started.resume_token for e in events if e.HasField("session_started"))
            code, details, replayed = await _converse(ch, pb.SessionConfig(input_audio=PCM16K, resume_token=token), b)
            row("tenant B resumes tenant A's session (a stolen token)",
                (code, f"{details} ({len(replayed)} events replayed)"))
            row("A's resume token without credentials",
                (await _converse(ch, pb.SessionConfig(input_audio=PCM16K, resume_token=token)))[:2])
            row("caller instructions over the tenant's 500 characters",
                (await _converse(ch, pb.SessionConfig(input_audio=PCM16K, instructions="x" * 501), a))[:2])
            row("caller instructions where the tenant refuses them",
                (await _converse(ch, pb.SessionConfig(input_audio=PCM16K, instructions="Be a pirate."), b))[:2])
            row("an unsupported language (`xx`)",
                (await _converse(ch, pb.SessionConfig(input_audio=PCM16K, language="xx"), a))[:2])
            hold = asyncio.Event()
            first = asyncio.create_task(_converse(ch, config, a, hold))
            await asyncio.sleep(0.5)
            row("a second live session past tenant A's limit of 1", (await _converse(ch, config, a))[:2])
            hold.set()
            await first
            await stub.Transcribe(pb.TranscribeRequest(**CLIP), metadata=a)
            row("offline audio past tenant A's 3 s an hour",
                await _unary(stub.Transcribe, pb.TranscribeRequest(**CLIP), metadata=a))
            listing = reflection_pb2_grpc.ServerReflectionStub(ch).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
            try:
                async for _ in listing:
                    pass
                row("list the services by reflection", ("OK", "listed"))
            except grpc.aio.AioRpcError as err:
                row("list the services by reflection", (err.code().name, err.details()))
        for name, tls in [("plaintext connection to the TLS port", {}),
                          ("TLS without a client certificate (mTLS on)", {"tls_ca": files["ca"]})]:
            async with channel(address, **tls) as ch:
                row(name, await _unary(interaction_pb2_grpc.InteractionStub(ch).Transcribe,
                                       pb.TranscribeRequest(**CLIP), metadata=a, timeout=5))
    finally:
        await gateway.stop(grace_s=0)
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="soundloop-attacks-") as folder, local_redis_server() as redis_url:
        rows = asyncio.run(_attacks(redis_url, pathlib.Path(folder)))
    print("| attack | status | message |\n|---|---|---|")
    for attack, code, details in rows:
        print(f"| {attack} | {code} | {details.replace('|', '/')[:160]} |")


if __name__ == "__main__":
    main()
