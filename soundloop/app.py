"""Builds the Ray Serve application: the gateway plus the four stages.

Named in the Serve config's import_path (`soundloop.app:build_app`), so the
same builder serves `soundloop serve`, `serve run deploy/serve/soundloop.yaml`
and a KubeRay RayService. Per-stage replicas, CPUs/GPUs and autoscaling come
from the config file's `deployments:` block, not from code.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from ray.serve import Application


class AppArgs(BaseModel):
    """`args:` of the Serve config. Settings fields apply to every replica."""
    profile: str = "default"
    redis_url: str = ""
    # Any other soundloop.settings.Settings fields, e.g. {"llm": {"backend": "openai", ...}}.
    settings: dict[str, Any] = Field(default_factory=dict)

    def settings_overrides(self) -> dict[str, Any]:
        overrides = {"profile": self.profile, **self.settings}
        if self.redis_url:
            overrides["redis_url"] = self.redis_url
        return overrides


# Defaults that fit one 2-core machine; the Serve config's `deployments:` block overrides them.
SMALL_MACHINE_CPUS = {"Gateway": 0.25, "Encoder": 0.5, "Llm": 0.5, "Decider": 0.25, "Tts": 0.25}


def _sized(deployment, name: str):
    return deployment.options(name=name, ray_actor_options={"num_cpus": SMALL_MACHINE_CPUS[name]},
                              max_ongoing_requests=64)


def build_app(args: dict[str, Any] | None = None) -> Application:
    # Imported here so that importing this module stays cheap for config linting.
    from services.decider.deployment import DeciderDeployment
    from services.encoder.deployment import EncoderDeployment
    from services.gateway.deployment import GatewayDeployment
    from services.llm.deployment import LlmDeployment
    from services.tts.deployment import TtsDeployment

    overrides = AppArgs(**(args or {})).settings_overrides()
    encoder = _sized(EncoderDeployment, "Encoder").bind(overrides)
    llm = _sized(LlmDeployment, "Llm").bind(overrides)
    decider = _sized(DeciderDeployment, "Decider").bind(overrides)
    tts = _sized(TtsDeployment, "Tts").bind(overrides)
    return _sized(GatewayDeployment, "Gateway").bind(encoder, llm, decider, tts, overrides)
