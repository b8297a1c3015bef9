"""Fixtures shared by every test folder: a real Redis."""
from __future__ import annotations

import os

import pytest

from soundloop.settings import LOCAL_DEVELOPMENT_ENV
from tests.support.redis_server import running_redis

# Model runtimes spin-wait on OpenMP by default and fight over the two cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The gateways the tests start are local development ones (plaintext, no API keys), asked for
# explicitly as an operator would; tests/gateway/test_access.py starts secured ones itself.
for _key, _value in LOCAL_DEVELOPMENT_ENV.items():
    os.environ.setdefault(_key, _value)


@pytest.fixture(scope="session")
def redis_url():
    with running_redis() as url:
        yield url
