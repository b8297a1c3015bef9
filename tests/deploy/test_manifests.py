"""Schema validation of the deployment manifests, offline, each with a negative twin.

Compose against the Compose Specification schema, the Serve configs against Ray
Serve's own pydantic models (plus the keys they would silently drop), the
RayService against the KubeRay v1.7.0 CRD converted to a strict JSON Schema, and
the core kinds of redis.yaml, secrets.example.yaml and network-policies.yaml against
the core schemas embedded in that CRD (NetworkPolicy: written from the API reference).
"""
from __future__ import annotations

import copy
import json

import manifest_checks as mc
import pytest
import yaml

pytestmark = pytest.mark.unit

SERVE_CONFIGS = ["soundloop.yaml", "soundloop-light.yaml"]


@pytest.fixture(scope="module")
def compose():
    return mc.load_yaml(mc.REPO / "docker-compose.yml")


@pytest.fixture(scope="module")
def rayservice():
    (doc,) = mc.load_yaml_all(mc.REPO / "deploy" / "kuberay" / "rayservice.yaml")
    return doc


@pytest.fixture(scope="module")
def redis_docs():
    return mc.load_yaml_all(mc.REPO / "deploy" / "kuberay" / "redis.yaml")


@pytest.fixture(scope="module")
def core_docs(redis_docs):
    """Every core-kind manifest: Redis, the Secret templates, the NetworkPolicies."""
    folder = mc.REPO / "deploy" / "kuberay"
    return redis_docs + mc.load_yaml_all(folder / "secrets.example.yaml") + mc.load_yaml_all(
        folder / "network-policies.yaml")


def serve_config(name: str = "soundloop.yaml"):
    return mc.load_yaml(mc.REPO / "deploy" / "serve" / name)


# ---------------------------------------------------------------- schemas in use

@pytest.mark.parametrize("name", [mc.COMPOSE_SCHEMA, mc.RAYSERVICE_CRD])
def test_vendored_schema_matches_the_shared_one(name):
    """deploy/schemas/ holds copies so the tests never skip; they must not go stale."""
    vendored = mc.VENDORED_SCHEMAS / name
    assert vendored.is_file(), f"vendor a copy of {name} into deploy/schemas/"
    shared = [d / "schemas" / name for d in mc.shared_dir_candidates() if (d / "schemas" / name).is_file()]
    for path in shared:
        load = json.loads if name.endswith(".json") else lambda t: list(yaml.load_all(t, Loader=mc._Loader))
        assert load(vendored.read_text()) == load(path.read_text()), f"{vendored} differs from {path}: re-copy it"


def test_schema_lookup_falls_back_to_the_vendored_copy(monkeypatch, tmp_path):
    monkeypatch.setattr(mc, "REPO", tmp_path / "clone")
    monkeypatch.setenv("SOUNDLOOP_SHARED_DIR", str(tmp_path / "nowhere"))
    assert mc.schema_path(mc.RAYSERVICE_CRD) == mc.VENDORED_SCHEMAS / mc.RAYSERVICE_CRD


# ---------------------------------------------------------------- Compose

def test_compose_matches_the_compose_spec(compose):
    assert mc.compose_problems(compose) == []


def test_compose_spec_rejects_a_broken_compose(compose):
    broken = copy.deepcopy(compose)
    broken["services"]["gateway"]["healthchek"] = broken["services"]["gateway"].pop("healthcheck")
    broken["services"]["gateway"]["depends_on"]["redis"]["condition"] = "healthy"
    problems = mc.compose_problems(broken)
    assert any("healthchek" in p for p in problems)
    assert any("depends_on" in p for p in problems)


# ---------------------------------------------------------------- Ray Serve config

@pytest.mark.parametrize("name", SERVE_CONFIGS)
def test_serve_config_parses_with_no_dropped_keys(name):
    assert mc.serve_config_problems(serve_config(name), name) == []


@pytest.mark.parametrize("where, key", [
    ("deployment", "max_ongoing_request"),
    ("ray_actor_options", "num_cpu"),
    ("autoscaling_config", "target_ongoing_request"),
    ("application", "route_prefx"),
    ("top", "proxy_locations"),
])
def test_serve_lint_finds_keys_serve_would_drop(where, key):
    doc = serve_config()
    app = doc["applications"][0]
    llm = mc.deployments(doc)["Llm"]
    target = {"deployment": llm, "ray_actor_options": llm["ray_actor_options"],
              "autoscaling_config": llm["autoscaling_config"], "application": app, "top": doc}[where]
    target[key] = 1
    from ray.serve.schema import ServeDeploySchema
    ServeDeploySchema.model_validate(doc)  # Serve itself accepts it: that is the trap.
    assert any(repr(key) in p for p in mc.serve_config_problems(doc, "broken"))


def test_serve_lint_rejects_replicas_with_autoscaling_and_bad_values():
    doc = serve_config()
    mc.deployments(doc)["Encoder"]["num_replicas"] = 2
    assert mc.serve_config_problems(doc, "broken")
    doc = serve_config()
    mc.deployments(doc)["Tts"]["autoscaling_config"].update(min_replicas=5, max_replicas=2)
    assert any("max_replicas" in p for p in mc.serve_config_problems(doc, "broken"))
    doc = serve_config()
    doc["applications"][0]["runtime_env"]["env_vars"]["HF_HUB_OFFLINE"] = 1
    assert any("must be a string" in p for p in mc.serve_config_problems(doc, "broken"))
    doc = serve_config()
    mc.deployments(doc)["Llm"]["autoscaling_config"]["target_ongoing_requests"] = 100
    assert any("never triggers" in p for p in mc.serve_config_problems(doc, "broken"))


def test_serve_lint_checks_the_builder_args():
    """services.app.AppArgs ignores unknown args and takes any profile string."""
    doc = serve_config()
    args = doc["applications"][0]["args"]
    args.update(profile="lite", redis=1, settings={"llm": {"backend": "vllm", "thrads": 2}})
    problems = mc.serve_config_problems(doc, "broken")
    for needle in ("'redis'", "SOUNDLOOP_PROFILE", "SOUNDLOOP_LLM__BACKEND", "llm.thrads"):
        assert any(needle in p for p in problems), (needle, problems)


@pytest.mark.parametrize("name", SERVE_CONFIGS)
def test_serve_config_shape(name):
    doc = serve_config(name)
    (app,) = doc["applications"]
    assert app["name"] == "soundloop" and app["import_path"] == "services.app:build_app"
    assert app["route_prefix"] is None, "callers use the Gateway's own port, not Serve's proxy"
    assert app["args"]["profile"] == ("light" if "light" in name else "default")
    env = app["runtime_env"]["env_vars"]
    assert env["HF_HUB_OFFLINE"] == "1"
    # An app-wide OpenMP policy would override the Llm replica's short spin (soundloop/process_env.py).
    assert "OMP_WAIT_POLICY" not in env
    deps = mc.deployments(doc)
    assert set(deps) == {"Gateway", "Encoder", "Llm", "Decider", "Tts"}
    for dep_name in ("Encoder", "Llm", "Decider", "Tts"):  # all on the per-chunk / per-turn path
        assert deps[dep_name].get("autoscaling_config"), f"{dep_name} autoscales"
    assert deps["Gateway"].get("num_replicas"), "Gateway replicas are fixed (they own a port on the head)"
    for dep in deps.values():
        # The default of 5 would make the 6th concurrent stream wait.
        assert dep.get("max_ongoing_requests", 5) > 5, f"{dep['name']}: size max_ongoing_requests"
        assert "num_cpus" in dep.get("ray_actor_options", {}), f"{dep['name']}: the default 1 CPU starves 2-CPU boxes"


def test_serve_configs_fit_a_two_cpu_box():
    assert mc.logical_cpus(serve_config("soundloop.yaml"), mc.min_replicas) <= 2.0
    assert mc.logical_cpus(serve_config("soundloop-light.yaml"), mc.max_replicas) <= 2.0


def test_gateway_streams_fit_the_encoder():
    """Each live session calls the Encoder every 100 ms: at full scale it must take them all at once."""
    from soundloop.settings import GatewaySettings
    for name in SERVE_CONFIGS:
        encoder = mc.deployments(serve_config(name))["Encoder"]
        assert mc.max_replicas(encoder) * encoder["max_ongoing_requests"] >= GatewaySettings().max_sessions


# ---------------------------------------------------------------- RayService

def test_rayservice_matches_the_kuberay_crd(rayservice):
    assert mc.rayservice_problems(rayservice) == []


def test_crd_validation_rejects_a_broken_rayservice(rayservice):
    broken = copy.deepcopy(rayservice)
    cluster = broken["spec"]["rayClusterConfig"]
    cluster["headGroupSpec"]["rayStartParam"] = cluster["headGroupSpec"].pop("rayStartParams")
    cluster["workerGroupSpecs"][0]["rayStartParams"] = {"num-cpus": 4}  # must be a string
    cluster["workerGroupSpecs"][0]["maxReplicas"] = "4"
    cluster["workerGroupSpecs"][0]["template"]["spec"]["containers"][0]["readinessProbe"] = {"grpc": {"prot": 1}}
    problems = mc.rayservice_problems(broken)
    for needle in ("rayStartParam'", "num-cpus", "maxReplicas", "prot"):
        assert any(needle in p for p in problems), (needle, problems)


def test_crd_conversion_handles_int_or_string_and_list_maps(rayservice):
    ok = copy.deepcopy(rayservice)
    head = ok["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    head["resources"]["limits"]["cpu"] = 2  # int-or-string quantity: an int is fine
    assert mc.rayservice_problems(ok) == []
    for bad in (True, "2 cores"):
        head["resources"]["limits"]["cpu"] = bad
        assert mc.rayservice_problems(ok), bad
    head["resources"]["limits"]["cpu"] = "2"
    head["ports"].append(dict(head["ports"][0], name="again"))  # list-map key containerPort+protocol
    assert any("duplicate" in p for p in mc.rayservice_problems(ok))
    ok["metadata"]["name"] = "Soundloop_1"
    assert any("metadata" in p for p in mc.rayservice_problems(ok))


def test_serve_config_v2_is_the_serve_config_file(rayservice):
    embedded = yaml.safe_load(rayservice["spec"]["serveConfigV2"])
    assert embedded == serve_config(), "copy deploy/serve/soundloop.yaml into spec.serveConfigV2"
    assert mc.serve_config_problems(embedded, "serveConfigV2") == []


def test_serve_config_v2_drift_is_detected(rayservice):
    drifted = yaml.safe_load(rayservice["spec"]["serveConfigV2"])
    mc.deployments(drifted)["Llm"]["ray_actor_options"]["num_cpus"] = 2
    assert drifted != serve_config()


# ---------------------------------------------------------------- core kinds

def test_core_manifests_are_valid_core_kinds(redis_docs, core_docs):
    # No Secret in redis.yaml: applying a placeholder would overwrite the real one.
    assert {d["kind"] for d in redis_docs} == {"Deployment", "Service"}
    assert {d["kind"] for d in core_docs} == {"Deployment", "Service", "Secret", "NetworkPolicy"}
    assert mc.core_manifest_problems(core_docs) == []


def test_core_kind_checks_reject_broken_manifests(core_docs):
    broken = copy.deepcopy(core_docs)
    by_kind = {d["kind"]: d for d in broken}  # the last of each kind
    by_kind["Service"]["spec"]["ports"][0]["targetPort"] = "redis-typo"
    by_kind["Deployment"]["spec"]["selector"]["matchLabels"] = {"app": "other"}
    by_kind["Deployment"]["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = 3
    del by_kind["Secret"]["metadata"]["name"]
    del by_kind["Secret"]["stringData"]["tls.key"]
    by_kind["NetworkPolicy"]["spec"]["policyTypes"] = ["Inbound"]
    by_kind["NetworkPolicy"]["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabel"] = {"a": "b"}
    problems = mc.core_manifest_problems(broken)
    for needle in ("targetPort", "selector", "imagePullPolicy", "'name' is a required", "tls.key",
                   "Inbound", "matchLabel'"):
        assert any(needle in p for p in problems), (needle, problems)
