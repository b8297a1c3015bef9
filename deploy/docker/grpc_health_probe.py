"""Container healthcheck: exits 0 when a gRPC server reports SERVING (grpc.health.v1).

    python deploy/docker/grpc_health_probe.py 127.0.0.1:50061
    python deploy/docker/grpc_health_probe.py 127.0.0.1:50051 --service soundloop.v1.Interaction
    python deploy/docker/grpc_health_probe.py 127.0.0.1:50051 --tls-dir /etc/soundloop/tls

Standalone on purpose (only grpcio and grpcio-health-checking): Docker runs it every
few seconds, so it must not import soundloop or any model runtime. Exit status 1
(unhealthy) on NOT_SERVING, an unknown service, a timeout or a refused connection,
with the reason on stderr, which `docker inspect` shows.

--tls-dir is for a server probing itself over loopback with TLS (Kubernetes exec probes; kubelet's
grpc probe cannot speak TLS). DIR holds the server's own kubernetes.io/tls Secret: tls.crt,
tls.key, optionally ca.crt. The probe trusts exactly that certificate (and ca.crt), under the
first name it holds, since 127.0.0.1 is rarely one of them, and presents it as its client
certificate, which a server requiring mTLS accepts when ca.crt signed it.
"""
from __future__ import annotations

import argparse
import ipaddress
import pathlib
import re
import ssl
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

_SUBJECT_ALT_NAME = bytes.fromhex("551d11")  # OID 2.5.29.17
_COMMON_NAME = bytes.fromhex("550403")  # OID 2.5.4.3
_PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


def _der_items(der: bytes, start: int, end: int):
    """(tag, value start, value end) of each DER element from start to end."""
    while start < end:
        tag, length, start = der[start], der[start + 1], start + 2
        if length & 0x80:
            size = length & 0x7F
            length, start = int.from_bytes(der[start:start + size], "big"), start + size
        yield tag, start, start + length
        start += length


def _extensions(der: bytes, fields):
    """(OID, value) of each extension among a TBSCertificate's fields."""
    for tag, start, end in fields:
        if tag == 0xA3:  # [3]: a SEQUENCE of Extension (OID, critical?, OCTET STRING)
            _, seq_start, seq_end = next(_der_items(der, start, end))
            for _, ext_start, ext_end in _der_items(der, seq_start, seq_end):
                oid, *_, value = _der_items(der, ext_start, ext_end)
                yield der[oid[1]:oid[2]], value


def _alt_names(der: bytes, value) -> list[str]:
    _, start, end = next(_der_items(der, value[1], value[2]))  # the OCTET STRING holds a SEQUENCE
    names = []
    for kind, name_start, name_end in _der_items(der, start, end):
        if kind == 0x82:  # dNSName
            names.append(der[name_start:name_end].decode("ascii"))
        elif kind == 0x87:  # iPAddress
            names.append(str(ipaddress.ip_address(der[name_start:name_end])))
    return names


def _common_names(der: bytes, subject) -> list[str]:
    names = []
    for _, rdn_start, rdn_end in _der_items(der, subject[1], subject[2]):  # a SET per RDN
        for _, start, end in _der_items(der, rdn_start, rdn_end):  # SEQUENCE (OID, value)
            oid, value = _der_items(der, start, end)
            if der[oid[1]:oid[2]] == _COMMON_NAME:
                names.append(der[value[1]:value[2]].decode())
    return names


def certificate_names(pem: bytes) -> list[str]:
    """The DNS and IP names of the first certificate in `pem` (subjectAltName), else its common name."""
    block = _PEM_CERTIFICATE.search(pem)
    if block is None:
        raise ValueError("no PEM certificate")
    der = ssl.PEM_cert_to_DER_cert(block.group().decode())
    (_, cert_start, cert_end), = _der_items(der, 0, len(der))
    _, tbs_start, tbs_end = next(_der_items(der, cert_start, cert_end))
    fields = list(_der_items(der, tbs_start, tbs_end))
    if fields[0][0] == 0xA0:  # [0] version
        fields = fields[1:]
    names = [n for oid, value in _extensions(der, fields) if oid == _SUBJECT_ALT_NAME for n in _alt_names(der, value)]
    # serial, signature, issuer, validity, subject
    return names or _common_names(der, fields[4])


def loopback_tls(folder: str) -> tuple[grpc.ChannelCredentials, str]:
    """Credentials and the name to check for a server probing itself with its own Secret in `folder`."""
    path = pathlib.Path(folder)
    cert, key = (path / "tls.crt").read_bytes(), (path / "tls.key").read_bytes()
    ca = path / "ca.crt"
    # ca.crt too: it outlives a certificate rotation that the server has not reloaded yet.
    roots = cert + (b"\n" + ca.read_bytes() if ca.is_file() and _PEM_CERTIFICATE.search(ca.read_bytes()) else b"")
    names = certificate_names(cert)
    if not names:
        raise ValueError(f"{path / 'tls.crt'} names no host")
    # grpc matches a wildcard name (*.example.com) with any one label in its place.
    name = "probe." + names[0][2:] if names[0].startswith("*.") else names[0]
    return grpc.ssl_channel_credentials(roots, private_key=key, certificate_chain=cert), name


def probe(address: str, service: str = "", timeout_s: float = 3.0, tls_dir: str = "") -> tuple[bool, str]:
    """Asks `address` for the health of `service` ("" = the whole server)."""
    if tls_dir:
        credentials, name = loopback_tls(tls_dir)
        channel = grpc.secure_channel(address, credentials, options=[("grpc.ssl_target_name_override", name)])
    else:
        channel = grpc.insecure_channel(address)
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout_s)
        except grpc.RpcError as error:
            return False, f"{error.code().name}: {error.details()}"
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    return reply.status == health_pb2.HealthCheckResponse.SERVING, status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("address", help="host:port of the gRPC server")
    parser.add_argument("--service", default="", help="service name to check (default: the server)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")
    parser.add_argument("--tls-dir", default="", help="the server's own tls.crt, tls.key (and ca.crt): "
                                                      "connect with TLS, trusting that certificate")
    args = parser.parse_args(argv)
    target = f"{args.address} {args.service}".strip()
    try:
        healthy, detail = probe(args.address, args.service, args.timeout, args.tls_dir)
    except (OSError, ValueError) as error:  # unreadable or invalid certificate files
        healthy, detail = False, f"TLS files: {error}"
    print(f"{target}: {detail}", file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
