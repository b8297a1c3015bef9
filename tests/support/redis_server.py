"""A real Redis for tests: a testcontainers container when a Docker daemon answers,
otherwise a redis-server process on a free loopback port (never a fake)."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from soundloop.local_redis import local_redis_server


@contextlib.contextmanager
def _container() -> Iterator[str]:
    from testcontainers.redis import RedisContainer
    container = RedisContainer("redis:7-alpine")
    container.start()
    try:
        yield f"redis://{container.get_container_host_ip()}:{container.get_exposed_port(6379)}/0"
    finally:
        container.stop()


def docker_available() -> bool:
    try:
        import docker
        docker.from_env().ping()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def running_redis() -> Iterator[str]:
    """Yields a redis:// URL of a real, empty Redis."""
    with (_container() if docker_available() else local_redis_server()) as url:
        yield url
