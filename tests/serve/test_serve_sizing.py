"""The Serve config file alone sizes the deployments, and `soundloop serve` runs that file.

No cluster here: the application is built the way Serve's controller builds it from
import_path, and the config that `soundloop serve` hands to the controller is compared
with the file. tests/serve/test_serve_app.py checks a running app against the file.
"""
from __future__ import annotations

import copy

import pytest
import yaml

from soundloop import serve_runner

pytestmark = pytest.mark.unit

PROFILES = ("default", "light")
# What `@serve.deployment(name=...)` and `.bind(...)` record; anything else is sizing or policy.
NOT_SIZING = {"name", "_init_args", "_init_kwargs"}


def built_deployments(profile: str):
    from ray.serve._private.build_app import build_app

    from services.app import build_app as build_soundloop
    # The controller's build task does this with the config's import_path and args.
    return build_app(build_soundloop({"profile": profile}), name=serve_runner.APP_NAME).deployments


def config_deployments(profile: str) -> dict[str, dict]:
    (app,) = serve_runner.load_serve_config(profile)["applications"]
    return {d["name"]: d for d in app["deployments"]}


@pytest.mark.parametrize("profile", PROFILES)
def test_the_built_app_carries_no_sizing_of_its_own(profile):
    for deployment in built_deployments(profile):
        in_code = deployment._deployment_config.user_configured_option_names - NOT_SIZING
        assert not in_code, f"{deployment.name} sets {sorted(in_code)} in code: size it in deploy/serve/*.yaml"


@pytest.mark.parametrize("profile", PROFILES)
def test_the_config_sizes_every_deployment_and_only_those(profile):
    assert {d.name for d in built_deployments(profile)} == set(config_deployments(profile))


@pytest.mark.parametrize("profile", PROFILES)
def test_soundloop_serve_runs_the_profiles_config_file(profile):
    config = serve_runner.load_serve_config(profile)
    assert config == yaml.safe_load(serve_runner.serve_config_path(profile).read_text())
    (app,) = config["applications"]
    assert app["import_path"] == "services.app:build_app"
    assert app["args"]["profile"] == profile


@pytest.mark.parametrize("profile", PROFILES)
def test_the_local_run_overrides_only_what_it_must(profile, monkeypatch, tmp_path):
    from ray.serve.schema import ServeDeploySchema

    monkeypatch.setenv("SOUNDLOOP_MODELS_DIR", str(tmp_path))
    original = serve_runner.load_serve_config(profile)
    local = serve_runner.local_serve_config(original, "redis://127.0.0.1:7777/0", 50123)
    ServeDeploySchema.model_validate(local)

    (app,) = local["applications"]
    assert app["args"]["redis_url"] == "redis://127.0.0.1:7777/0"
    env = app["runtime_env"]["env_vars"]
    assert env["SOUNDLOOP_GATEWAY__PORT"] == "50123" and env["SOUNDLOOP_MODELS_DIR"] == str(tmp_path)
    assert local["http_options"]["host"] == "127.0.0.1"

    # Take the overrides back out: what is left is the file, untouched.
    expected = copy.deepcopy(original)
    del app["args"]["redis_url"], env["SOUNDLOOP_MODELS_DIR"], local["http_options"]
    env["SOUNDLOOP_GATEWAY__PORT"] = original["applications"][0]["runtime_env"]["env_vars"]["SOUNDLOOP_GATEWAY__PORT"]
    del expected["http_options"]
    assert local == expected
    assert original == serve_runner.load_serve_config(profile), "the file's dict must not be mutated"


def test_sizing_in_code_would_be_caught():
    """The negative twin: a decorator's num_cpus or max_ongoing_requests shows up as configured."""
    from ray import serve

    @serve.deployment(name="Sized", ray_actor_options={"num_cpus": 1}, max_ongoing_requests=8)
    class Sized:
        pass

    from ray.serve._private.build_app import build_app
    (deployment,) = build_app(Sized.bind(), name="x").deployments
    assert deployment._deployment_config.user_configured_option_names - NOT_SIZING == {
        "ray_actor_options", "max_ongoing_requests"}


@pytest.mark.parametrize("profile", PROFILES)
def test_the_node_runs_the_apps_serve_knobs_and_the_controller_interval(profile):
    """Serve's controller reads its knobs from the node, not from the app's runtime_env."""
    config = serve_runner.load_serve_config(profile)
    app_env = config["applications"][0]["runtime_env"]["env_vars"]
    knobs = {k: v for k, v in app_env.items() if k.startswith("RAY_SERVE_")}
    assert knobs, "the Serve config tunes Serve's per-request machinery"
    node = serve_runner.node_env(config)
    assert node == {**knobs, **serve_runner.CONTROLLER_ENV}
    assert "SOUNDLOOP_GATEWAY__PORT" not in node


def test_the_rayservice_head_sets_the_controller_env():
    (doc,) = yaml.safe_load_all((serve_runner.REPO_ROOT / "deploy" / "kuberay" / "rayservice.yaml").read_text())
    (head,) = doc["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in head["env"]}
    assert {k: env.get(k) for k in serve_runner.CONTROLLER_ENV} == serve_runner.CONTROLLER_ENV
