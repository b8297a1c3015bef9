"""Environment a model-running process needs, set before its model libraries load.

OpenMP runtimes spin-wait by default and fight over the two cores, so every
stage waits passively, except llama.cpp: with OMP_WAIT_POLICY=PASSIVE its
threads sleep between decode steps and token time doubles (SmolLM2 22 vs 11 ms,
Qwen2.5-1.5B 13-15 vs 20-22 tok/s here); a short spin (GOMP_SPINCOUNT) keeps
most of the speed without burning the other core.
"""
from __future__ import annotations

import os

OFFLINE = {"HF_HUB_OFFLINE": "1"}  # no model hub at run time, ever
MODEL_STAGE = {**OFFLINE, "OMP_WAIT_POLICY": "PASSIVE"}
LLM_STAGE = {**OFFLINE, "GOMP_SPINCOUNT": "10000"}


def apply(env: dict[str, str]) -> None:
    """Sets `env` where the operator has not set the variable already."""
    for key, value in env.items():
        os.environ.setdefault(key, value)
