"""Starts a throwaway redis-server on a free loopback port (for `soundloop serve` and tests)."""
from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def local_redis_server() -> Iterator[str]:
    """Yields the redis:// URL of a fresh redis-server process; stops it afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found: install it (apt-get install redis-server) "
                           "or set SOUNDLOOP_REDIS_URL")
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", workdir],
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            client = redis.Redis.from_url(url)
            for _ in range(250):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if proc.poll() is not None:
                        raise RuntimeError(f"redis-server exited with {proc.returncode}") from None
                    time.sleep(0.02)
            else:
                raise RuntimeError("redis-server did not answer within 5 s")
            client.close()
            yield url
        finally:
            proc.terminate()
            proc.wait(10)
