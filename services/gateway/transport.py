"""How callers connect: TLS (optionally mutual) from PEM files, or plaintext when asked for.

The files are reread when they change: gRPC asks for the certificate configuration at each new
handshake (`dynamic_ssl_server_credentials`), and a changed file is picked up within
RELOAD_CHECK_S, so cert-manager or a Secret update rotates certificates without a restart. Live
connections keep the certificate they were opened with.
"""
from __future__ import annotations

import logging
import os
import time

import grpc

from soundloop.settings import SecuritySettings

log = logging.getLogger(__name__)

RELOAD_CHECK_S = 5.0


class CertificateFiles:
    """The gateway's certificate, key and (for mTLS) client CA, as gRPC wants them, kept fresh."""

    def __init__(self, cert_file: str, key_file: str, client_ca_file: str = ""):
        self.paths = [p for p in (cert_file, key_file, client_ca_file) if p]
        self._cert_file, self._key_file, self._ca_file = cert_file, key_file, client_ca_file
        self._stamp = self._mtimes()
        self.current = self._configuration()
        self._checked = time.monotonic()

    def _mtimes(self) -> tuple[int, ...]:
        return tuple(os.stat(p).st_mtime_ns for p in self.paths)

    def _configuration(self):
        def read(path: str) -> bytes:
            with open(path, "rb") as f:
                return f.read()
        return grpc.ssl_server_certificate_configuration(
            [(read(self._key_file), read(self._cert_file))],
            root_certificates=read(self._ca_file) if self._ca_file else None)

    def fetch(self):
        """gRPC's per-handshake question: a new configuration, or None to keep the current one."""
        now = time.monotonic()
        if now - self._checked < RELOAD_CHECK_S:
            return None
        self._checked = now
        try:
            stamp = self._mtimes()
            if stamp == self._stamp:
                return None
            self.current, self._stamp = self._configuration(), stamp
        except (OSError, ValueError, RuntimeError) as err:  # mid-rotation: one file new, one missing
            log.error("TLS files not reloaded, the current certificate stays in use: %s", err)
            return None
        log.info("TLS certificate files reloaded: %s", ", ".join(self.paths))
        return self.current


def server_credentials(security: SecuritySettings) -> grpc.ServerCredentials | None:
    """The public port's credentials; None for plaintext, which must be asked for."""
    if not security.tls_cert_file and not security.tls_key_file:
        if not security.plaintext:
            raise ValueError("the gateway needs TLS: set SOUNDLOOP_SECURITY__TLS_CERT_FILE and "
                             "SOUNDLOOP_SECURITY__TLS_KEY_FILE, or SOUNDLOOP_SECURITY__PLAINTEXT=true for local "
                             "development (or behind a proxy that terminates TLS)")
        return None
    if not (security.tls_cert_file and security.tls_key_file):
        raise ValueError("TLS needs both SOUNDLOOP_SECURITY__TLS_CERT_FILE and SOUNDLOOP_SECURITY__TLS_KEY_FILE")
    files = CertificateFiles(security.tls_cert_file, security.tls_key_file, security.tls_client_ca_file)
    return grpc.dynamic_ssl_server_credentials(files.current, files.fetch,
                                               require_client_authentication=bool(security.tls_client_ca_file))
