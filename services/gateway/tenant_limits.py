"""Per-tenant limits, kept in Redis so they hold across every gateway replica.

Live sessions: a sorted set per tenant, `sl:tenant:<name>:sessions`, of session ids scored by when
their lease ends. A connection takes the lease when the session opens, renews it every
LEASE_S / 3 and gives it back when it ends, so a gateway that dies without giving its leases back
holds its tenant's slots for LEASE_S at most. A resumed session renews the lease it already has.

Offline audio: a counter of clip seconds per tenant and clock hour, `sl:tenant:<name>:clip_s:<hour>`,
charged before the clip is processed (a clip that then fails still counts: it used the encoder).

Leases read Redis's own clock, so gateways with skewed clocks agree on when one ends.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import redis.asyncio as aioredis

from soundloop.errors import Overloaded

from .access import Tenant
from .session_store import SessionStoreUnavailable, timed

log = logging.getLogger(__name__)

LEASE_S = 30

# KEYS: the tenant's session set; ARGV: session id, limit, lease seconds. 1: leased, 0: at the limit.
_LEASE = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
return 1
"""

# KEYS: the tenant's counter of this hour; ARGV: seconds, limit. 1: charged, 0: over the limit.
_CHARGE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return 0 end
redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], 7200)
return 1
"""


def _sessions_key(tenant: str) -> str:
    return f"sl:tenant:{tenant}:sessions"


class TenantLimits:
    def __init__(self, client: aioredis.Redis):
        self._redis = client
        self._lease = client.register_script(_LEASE)
        self._charge = client.register_script(_CHARGE)

    @timed
    async def _take(self, tenant: Tenant, sid: str) -> bool:
        return bool(await self._lease(keys=[_sessions_key(tenant.name)], args=[sid, tenant.max_sessions, LEASE_S]))

    @contextlib.asynccontextmanager
    async def session_slot(self, tenant: Tenant, sid: str):
        """Holds one of the tenant's live-session slots for session `sid` while the body runs;
        Overloaded (RESOURCE_EXHAUSTED) if the tenant has none free."""
        if not tenant.max_sessions:
            yield
            return
        if not await self._take(tenant, sid):
            raise Overloaded(f"tenant {tenant.name!r} is at its limit of {tenant.max_sessions} live sessions; "
                             "end one or retry later")
        renewing = asyncio.create_task(self._renew(tenant, sid), name="tenant-lease")
        try:
            yield
        finally:
            renewing.cancel()
            with contextlib.suppress(SessionStoreUnavailable):
                await self._release(tenant, sid)

    async def _renew(self, tenant: Tenant, sid: str) -> None:
        while True:
            await asyncio.sleep(LEASE_S / 3)
            try:
                await self._take(tenant, sid)
            except SessionStoreUnavailable as err:  # the store's outage handling is the session's
                log.warning("tenant lease of %s not renewed: %s", sid, err)

    @timed
    async def _release(self, tenant: Tenant, sid: str) -> None:
        await self._redis.zrem(_sessions_key(tenant.name), sid)

    @timed
    async def charge_offline(self, tenant: Tenant, seconds: float) -> None:
        """Counts `seconds` of clip audio against the tenant's hourly allowance, or raises Overloaded."""
        if not tenant.offline_minutes_per_hour:
            return
        limit_s = tenant.offline_minutes_per_hour * 60
        hour = int(time.time() // 3600)
        if not await self._charge(keys=[f"sl:tenant:{tenant.name}:clip_s:{hour}"], args=[f"{seconds:.3f}", limit_s]):
            raise Overloaded(f"tenant {tenant.name!r} has used its {tenant.offline_minutes_per_hour:g} minutes of "
                             f"offline audio this hour; a {seconds:.0f} s clip does not fit")
