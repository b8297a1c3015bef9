"""The whole system, light profile: four stage servers + gateway as real processes on loopback."""
from __future__ import annotations

import tempfile

import pytest

from soundloop.local_stack import local_stack


@pytest.fixture(scope="session")
def stack(redis_url):
    with tempfile.TemporaryDirectory(prefix="soundloop-e2e-logs-") as logs:
        try:
            with local_stack("light", redis_url, log_dir=logs,
                             extra_env={"SOUNDLOOP_GATEWAY__SEND_TIMEOUT_S": "3"}) as running:
                yield running
        except Exception:
            for log in sorted(__import__("pathlib").Path(logs).glob("*.log")):
                print(f"==== {log.name}\n{log.read_text(errors='replace')[-4000:]}")
            raise


@pytest.fixture
def gateway(stack) -> str:
    return stack.gateway_address
