"""deploy/docker/grpc_health_probe.py, run as Docker and kubelet run it, against real gRPC servers:
plaintext, TLS and mutual TLS (the gateway's exec probes on Kubernetes)."""
from __future__ import annotations

import asyncio
import importlib.util
import pathlib
import shutil
import socket
import subprocess
import sys

import grpc
import manifest_checks as mc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

pytestmark = pytest.mark.integration

PROBE = mc.REPO / "deploy" / "docker" / "grpc_health_probe.py"


async def run_probe(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(PROBE), *args, "--timeout", "2",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    return process.returncode, out.decode()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_probe_reports_serving_not_serving_unknown_and_down():
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
        await servicer.set("soundloop.tts.v1.Tts", health_pb2.HealthCheckResponse.NOT_SERVING)
        address = f"127.0.0.1:{port}"
        results = await asyncio.gather(
            run_probe(address),
            run_probe(address, "--service", "soundloop.tts.v1.Tts"),
            run_probe(address, "--service", "soundloop.nope.v1.Nope"),
            run_probe(f"127.0.0.1:{closed_port()}"),
        )
    finally:
        await server.stop(None)
    (ok, ok_out), (sick, sick_out), (unknown, unknown_out), (down, down_out) = results
    assert ok == 0 and "SERVING" in ok_out
    assert sick == 1 and "NOT_SERVING" in sick_out
    assert unknown == 1 and "NOT_FOUND" in unknown_out
    assert down == 1 and "UNAVAILABLE" in down_out


# ---------------------------------------------------------------- TLS (Kubernetes exec probes of the gateway)

def openssl(folder: pathlib.Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)


def new_key_and_request(folder: pathlib.Path, name: str, subject: str) -> None:
    openssl(folder, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> pathlib.Path:
    """A CA; the gateway's certificate it signed, whose names (a wildcard first) do not include
    127.0.0.1; an unrelated self-signed one; and one with a common name only."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    folder = tmp_path_factory.mktemp("tls")
    openssl(folder, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=soundloop test CA")
    new_key_and_request(folder, "tls", "/CN=gateway")
    (folder / "san.ext").write_text("subjectAltName=DNS:*.gateway.example,DNS:soundloop.example,IP:10.0.0.1\n")
    openssl(folder, "x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "tls.crt", "-days", "2", "-extfile", "san.ext")
    for name, subject in (("other", "/CN=other.example"), ("cn-only", "/O=soundloop/CN=cn-only.example")):
        new_key_and_request(folder, name, subject)
        openssl(folder, "x509", "-req", "-in", f"{name}.csr", "-key", f"{name}.key", "-out", f"{name}.crt",
                "-days", "2")
    return folder


def secret_mount(certificates: pathlib.Path, target: pathlib.Path, cert: str = "tls", ca: bool = False) -> str:
    """A folder laid out like a mounted kubernetes.io/tls Secret."""
    target.mkdir()
    shutil.copy(certificates / f"{cert}.crt", target / "tls.crt")
    shutil.copy(certificates / f"{cert}.key", target / "tls.key")
    if ca:
        shutil.copy(certificates / "ca.crt", target / "ca.crt")
    return str(target)


async def tls_server(certificates: pathlib.Path, client_ca: bool):
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    credentials = grpc.ssl_server_credentials(
        [((certificates / "tls.key").read_bytes(), (certificates / "tls.crt").read_bytes())],
        root_certificates=(certificates / "ca.crt").read_bytes() if client_ca else None,
        require_client_auth=client_ca)
    port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    return server, f"127.0.0.1:{port}"


@pytest.mark.parametrize("client_ca", [False, True], ids=["tls", "mtls"])
async def test_probe_checks_a_tls_server_with_its_own_certificate(certificates, tmp_path, client_ca):
    server, address = await tls_server(certificates, client_ca)
    try:
        own = secret_mount(certificates, tmp_path / "own")
        own_with_ca = secret_mount(certificates, tmp_path / "own-with-ca", ca=True)
        stranger = secret_mount(certificates, tmp_path / "stranger", cert="other")
        results = await asyncio.gather(
            run_probe(address, "--tls-dir", own), run_probe(address, "--tls-dir", own_with_ca),
            run_probe(address), run_probe(address, "--tls-dir", stranger),
            run_probe(address, "--tls-dir", str(tmp_path / "missing")))
    finally:
        await server.stop(None)
    (own_rc, own_out), (ca_rc, ca_out), (plain_rc, _), (stranger_rc, stranger_out), (missing_rc, missing_out) = results
    # The gateway's certificate signs in as the mTLS client too (its CA is the client CA here).
    assert own_rc == 0 and "SERVING" in own_out, own_out
    assert ca_rc == 0 and "SERVING" in ca_out, ca_out
    assert plain_rc == 1  # a plaintext probe (kubelet's grpc probe) cannot check a TLS gateway
    assert stranger_rc == 1, stranger_out  # a certificate that is not the server's is not trusted
    assert missing_rc == 1 and "TLS files" in missing_out, missing_out


def test_probe_names_the_server_by_its_certificate(certificates):
    spec = importlib.util.spec_from_file_location("grpc_health_probe", PROBE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    names = module.certificate_names((certificates / "tls.crt").read_bytes())
    assert names == ["*.gateway.example", "soundloop.example", "10.0.0.1"]
    assert module.certificate_names((certificates / "cn-only.crt").read_bytes()) == ["cn-only.example"]
    with pytest.raises(ValueError):
        module.certificate_names(b"not a certificate")
