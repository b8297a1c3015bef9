"""Fixtures of the LLM stage tests: the light profile's real model (SmolLM2-135M), loaded once per module."""
from __future__ import annotations

import os

# Before llama.cpp loads its OpenMP runtime (see /work/shared/MODELS.md).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from soundloop.llm.v1 import llm_pb2
from soundloop.settings import Settings, load_settings

ROLES = {"system": llm_pb2.ROLE_SYSTEM, "user": llm_pb2.ROLE_USER, "assistant": llm_pb2.ROLE_ASSISTANT}


def make_request(*turns: tuple[str, str], session_id: str = "test", max_tokens: int = 0,
                 temperature: float = 0.01) -> llm_pb2.GenerateRequest:
    """A GenerateRequest from (role, content) pairs."""
    return llm_pb2.GenerateRequest(
        session_id=session_id, turn_id="t1", max_tokens=max_tokens, temperature=temperature,
        messages=[llm_pb2.ChatMessage(role=ROLES[role], content=content) for role, content in turns])


@pytest.fixture(scope="module")
def light_settings() -> Settings:
    settings = load_settings(profile="light")
    assert settings.llm.model == "smollm2-135m"
    return settings


@pytest.fixture(scope="module")
def request_factory():
    return make_request
