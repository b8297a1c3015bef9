"""Who is calling: tenants, their API keys and what their operator allows.

Every public RPC starts with `Access.identify`, before it reads a message, opens a session,
calls a model or writes to Redis. Callers send `authorization: Bearer <api key>`; the tenants
file holds only SHA-256 hashes of the keys (API keys are long random strings, so a fast hash is
enough: there is nothing to brute-force), so a leaked config leaks no key. The file is reread
when it changes, so keys rotate without a restart: add the new hash, move callers, drop the old.

    {"tenants": [{"name": "acme", "api_key_sha256": ["<64 hex>"], "max_sessions": 20,
                  "offline_minutes_per_hour": 60, "instructions": "You are Acme's assistant ...",
                  "caller_instructions": "allowed", "caller_instructions_max_chars": 1000}]}
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from soundloop.errors import Unauthenticated
from soundloop.settings import SecuritySettings

log = logging.getLogger(__name__)

ANONYMOUS = "local"
RELOAD_CHECK_S = 2.0  # how often a call may look at the tenants file's modification time


class Tenant(BaseModel):
    """One customer of the server, and its operator's rules for its callers."""
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")  # also a Redis key segment
    api_key_sha256: list[str] = Field(default_factory=list)
    max_sessions: int = Field(default=0, ge=0)  # live calls at once, across gateways (0: no tenant limit)
    offline_minutes_per_hour: float = Field(default=0, ge=0)  # Transcribe + AnswerAboutClip audio (0: none)
    # The operator's system prompt (empty: the gateway's default). Callers cannot replace it.
    instructions: str = ""
    # Whether a caller's SessionConfig.instructions are added below the operator's, and how long they may be.
    caller_instructions: Literal["allowed", "refused"] = "allowed"
    caller_instructions_max_chars: int = Field(default=2000, ge=0, le=8000)

    @field_validator("api_key_sha256")
    @classmethod
    def _hex_digests(cls, digests: list[str]) -> list[str]:
        for digest in digests:
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise ValueError("api_key_sha256 entries are 64 lowercase hex characters (sha256sum of the key)")
        return digests


class TenantsFile(BaseModel):
    tenants: list[Tenant]


def key_digest(api_key: str) -> str:
    """What the tenants file stores for a key: `printf %s KEY | sha256sum`."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def _read(path: str) -> dict[str, Tenant]:
    """The tenants by key digest; a clear ValueError if the file is not valid."""
    try:
        with open(path, "rb") as f:
            parsed = TenantsFile.model_validate_json(f.read())
    except (OSError, ValidationError) as err:
        raise ValueError(f"tenants file {path}: {err}") from None
    by_digest: dict[str, Tenant] = {}
    names = set()
    for tenant in parsed.tenants:
        if tenant.name in names:
            raise ValueError(f"tenants file {path}: tenant {tenant.name!r} is listed twice")
        names.add(tenant.name)
        for digest in tenant.api_key_sha256:
            if digest in by_digest:
                raise ValueError(f"tenants file {path}: one API key is given to {by_digest[digest].name!r} "
                                 f"and {tenant.name!r}")
            by_digest[digest] = tenant
    return by_digest


class Access:
    """Tells the tenant of a call from its metadata, or refuses it (UNAUTHENTICATED)."""

    def __init__(self, tenants_file: str = "", anonymous: bool = False):
        if not tenants_file and not anonymous:
            raise ValueError("the gateway needs callers' API keys: set SOUNDLOOP_SECURITY__TENANTS_FILE, or "
                             "SOUNDLOOP_SECURITY__ANONYMOUS=true for local development (anyone may call)")
        self._path = tenants_file
        self._anonymous = Tenant(name=ANONYMOUS) if anonymous and not tenants_file else None
        self._by_digest = _read(tenants_file) if tenants_file else {}
        self._mtime = os.stat(tenants_file).st_mtime_ns if tenants_file else 0
        self._checked = time.monotonic()

    @classmethod
    def from_settings(cls, security: SecuritySettings) -> Access:
        return cls(security.tenants_file, security.anonymous)

    def identify(self, metadata) -> Tenant:
        """The tenant whose API key the call carries (`metadata`: the call's invocation metadata)."""
        if self._anonymous is not None:
            return self._anonymous
        self._reload_if_changed()
        values = [value for key, value in metadata or () if key == "authorization"]
        if not values:
            raise Unauthenticated("no credentials: send the metadata `authorization: Bearer <API key>`")
        scheme, _, key = values[0].partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise Unauthenticated("the `authorization` metadata must be `Bearer <API key>`")
        tenant = self._by_digest.get(key_digest(key.strip()))
        if tenant is None:
            raise Unauthenticated("the API key is not valid")
        return tenant

    def _reload_if_changed(self) -> None:
        now = time.monotonic()
        if now - self._checked < RELOAD_CHECK_S:
            return
        self._checked = now
        try:
            mtime = os.stat(self._path).st_mtime_ns
            if mtime != self._mtime:
                self._by_digest, self._mtime = _read(self._path), mtime
                log.info("tenants file %s reloaded: %d keys", self._path, len(self._by_digest))
        except (OSError, ValueError) as err:  # a half-written or broken file: keep the keys we have
            log.error("tenants file not reloaded, the previous keys stay in force: %s", err)
