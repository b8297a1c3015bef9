"""Builds the Ray Serve application: the gateway plus the four stages.

Named in the Serve config's import_path (`services.app:build_app`), so the
same builder serves `soundloop serve`, `serve run deploy/serve/soundloop.yaml`
and a KubeRay RayService. Replicas, CPUs/GPUs, max_ongoing_requests and
autoscaling come from the config file's `deployments:` block alone: the
deployments here carry their names and nothing else, so code cannot disagree
with the config (tests/serve/test_serve_sizing.py).
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


def build_app(args: dict[str, Any] | None = None) -> Application:
    # Imported here so that importing this module stays cheap for config linting.
    from services.decider.deployment import DeciderDeployment
    from services.encoder.deployment import EncoderDeployment
    from services.gateway.deployment import GatewayDeployment
    from services.llm.deployment import LlmDeployment
    from services.tts.deployment import TtsDeployment

    overrides = AppArgs(**(args or {})).settings_overrides()
    encoder = EncoderDeployment.bind(overrides)
    llm = LlmDeployment.bind(overrides)
    decider = DeciderDeployment.bind(overrides)
    tts = TtsDeployment.bind(overrides)
    return GatewayDeployment.bind(encoder, llm, decider, tts, overrides)
