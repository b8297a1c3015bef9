"""Erases one session's data from Redis now, rather than at its expiry: a caller's request to delete
what was recorded of them (transcripts, history, turn audio, event log, reply audio). Its resume
token stops working.

    python -m services.gateway.forget SESSION_ID [--redis-url URL]   # default: $SOUNDLOOP_REDIS_URL
"""
from __future__ import annotations

import argparse
import asyncio
import sys

from soundloop.settings import load_settings

from .session_store import SessionStore


async def forget(redis_url: str, session_id: str) -> bool:
    store = SessionStore.from_url(redis_url)
    try:
        return await store.forget(session_id)
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("session_id", help="as in the SessionStarted event, e.g. acme.3f2a...")
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args(argv)
    redis_url = args.redis_url or load_settings().redis_url
    if not redis_url:
        sys.exit("no Redis: pass --redis-url or set SOUNDLOOP_REDIS_URL")
    if not asyncio.run(forget(redis_url, args.session_id)):
        sys.exit(f"nothing stored for session {args.session_id}")
    print(f"session {args.session_id}: every key deleted; its resume token no longer works")


if __name__ == "__main__":
    main()
