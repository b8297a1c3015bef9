"""Throwaway TLS certificates for trying TLS and mTLS locally (and for the tests): a CA, a server
certificate for localhost/127.0.0.1 and a client certificate, made with the openssl command.

    python -m soundloop.dev_certs OUT_DIR
    SOUNDLOOP_SECURITY__TLS_CERT_FILE=OUT_DIR/server.crt SOUNDLOOP_SECURITY__TLS_KEY_FILE=OUT_DIR/server.key \\
        SOUNDLOOP_SECURITY__TLS_CLIENT_CA_FILE=OUT_DIR/ca.crt ...

Not for production: use your CA or cert-manager there.
"""
from __future__ import annotations

import pathlib
import subprocess
import sys

SERVER_NAMES = "DNS:localhost,IP:127.0.0.1"


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def issue(out: pathlib.Path, name: str, ca: str | None = None, server_names: str = "") -> tuple[str, str]:
    """Writes `name`.key (P-256) and `name`.crt into `out`: self-signed (a CA) when `ca` is None, else
    signed by the CA `ca` in the same folder, as a server certificate for `server_names` or, without
    them, a client one. Returns (key path, certificate path)."""
    out.mkdir(parents=True, exist_ok=True)
    key, crt = str(out / f"{name}.key"), str(out / f"{name}.crt")
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    if ca is None:
        _openssl("req", "-x509", "-new", "-key", key, "-out", crt, "-days", "2", "-subj", f"/CN={name}")
        return key, crt
    csr, ext = out / f"{name}.csr", out / f"{name}.ext"
    _openssl("req", "-new", "-key", key, "-out", str(csr), "-subj", f"/CN={name}")
    ext.write_text(f"subjectAltName={server_names}\n" if server_names else "extendedKeyUsage=clientAuth\n")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(out / f"{ca}.crt"), "-CAkey", str(out / f"{ca}.key"),
             "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", str(ext))
    csr.unlink()
    ext.unlink()
    return key, crt


def issue_set(out: pathlib.Path) -> dict[str, str]:
    """ca.crt, server.{crt,key} for localhost and client.{crt,key}, all in `out`; their paths."""
    issue(out, "ca")
    server_key, server_crt = issue(out, "server", "ca", SERVER_NAMES)
    client_key, client_crt = issue(out, "client", "ca")
    return {"ca": str(out / "ca.crt"), "server_key": server_key, "server_crt": server_crt,
            "client_key": client_key, "client_crt": client_crt}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for what, path in issue_set(pathlib.Path(sys.argv[1])).items():
        print(f"{what}: {path}")
