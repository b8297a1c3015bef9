"""Fixtures shared by every test folder: a real Redis."""
from __future__ import annotations

import os

import pytest

from tests.support.redis_server import running_redis

# Model runtimes spin-wait on OpenMP by default and fight over the two cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def redis_url():
    with running_redis() as url:
        yield url
