"""Consistency between the manifests and the code: ports, env, entry points, image names.

Compose, the Serve configs, the RayService, the Dockerfile and soundloop's settings
name the same ports, hosts, variables and modules in different syntaxes; these
checks fail when one of them changes alone. Each has a negative twin. The image recipe itself
is checked in test_image.py.
"""
from __future__ import annotations

import ast
import copy
import json
import math
import pathlib
import re
import shutil
import subprocess
import urllib.parse

import manifest_checks as mc
import pytest
import yaml

pytestmark = pytest.mark.unit

STAGES = ("encoder", "llm", "decider", "tts")
IMAGE_REPO = "ghcr.io/soundloop/soundloop"
PROBE = "/app/deploy/docker/grpc_health_probe.py"
GATEWAY_RESOURCE = "soundloop_gateway"  # soundloop/serve_runner.py


def settings_ports() -> dict[str, int]:
    from soundloop.settings import GatewaySettings, StageAddresses
    ports = {s: int(getattr(StageAddresses(), s).rsplit(":", 1)[1]) for s in STAGES}
    return ports | {"gateway": GatewaySettings().port}


def pins() -> dict[str, str]:
    lines = (mc.REPO / "requirements" / "runtime.txt").read_text().splitlines()
    pinned = (re.match(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?==(\S+)", line) for line in lines)
    return dict(m.groups() for m in pinned if m)


def project_version() -> str:
    return re.search(r'^version = "([^"]+)"', (mc.REPO / "pyproject.toml").read_text(), re.MULTILINE).group(1)


def module_file(module: str) -> pathlib.Path | None:
    base = mc.REPO.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__main__.py"):
        if candidate.is_file():
            return candidate
    return None


def load(rel: str):
    return mc.load_yaml(mc.REPO / rel)


def loaded():
    (rayservice,) = mc.load_yaml_all(mc.REPO / "deploy/kuberay/rayservice.yaml")
    return {"compose": load("docker-compose.yml"), "serve": load("deploy/serve/soundloop.yaml"),
            "rayservice": rayservice, "gateway_service": load("deploy/kuberay/gateway-service.yaml"),
            "redis": mc.load_yaml_all(mc.REPO / "deploy/kuberay/redis.yaml"),
            "dockerfile": (mc.REPO / "deploy/docker/Dockerfile").read_text()}


# ---------------------------------------------------------------- checks

def entry_point_problems(compose, serve_docs, dockerfile: str) -> list[str]:
    """Every process the manifests start names a module that exists and takes --port."""
    problems, commands = [], [(f"compose {n}", s.get("command")) for n, s in compose["services"].items()]
    commands += [("Dockerfile CMD", yaml.safe_load(line.split(None, 1)[1]))
                 for line in dockerfile.splitlines() if line.startswith("CMD ")]
    for where, cmd in commands:
        if isinstance(cmd, list) and cmd[:2] == ["python", "-m"]:
            path = module_file(cmd[2])
            if path is None:
                problems.append(f"{where}: module {cmd[2]} does not exist in the repo")
            elif "--port" in cmd and "--port" not in path.read_text():
                problems.append(f"{where}: {path.relative_to(mc.REPO)} has no --port option")
    for doc in serve_docs:
        for app in doc["applications"]:
            module, _, attr = app["import_path"].partition(":")
            path = module_file(module)
            if path is None:
                problems.append(f"{app['import_path']}: module {module} does not exist in the repo")
            elif attr not in {n.name for n in ast.parse(path.read_text()).body if hasattr(n, "name")}:
                problems.append(f"{app['import_path']}: {path.relative_to(mc.REPO)} defines no {attr}")
    return problems


def _arg(cmd: list, flag: str):
    return cmd[cmd.index(flag) + 1] if flag in cmd else None


def compose_wiring_problems(compose) -> list[str]:
    problems, services, ports = [], compose["services"], settings_ports()
    for name, port in ports.items():
        svc = services.get(name)
        if svc is None:
            problems.append(f"compose: no service {name!r}")
            continue
        cmd = svc.get("command", [])
        if cmd[:3] != ["python", "-m", f"services.{name}.server"] or _arg(cmd, "--port") != str(port):
            problems.append(f"compose {name}: command {cmd} should serve services.{name}.server on {port}")
        test = svc.get("healthcheck", {}).get("test", [])
        if test[:3] != ["CMD", "python", PROBE] or f"127.0.0.1:{port}" not in test:
            problems.append(f"compose {name}: healthcheck {test} should probe 127.0.0.1:{port} with {PROBE}")
    gateway = services.get("gateway", {})
    env = gateway.get("environment", {})
    for stage in STAGES:
        if env.get(f"SOUNDLOOP_STAGES__{stage.upper()}") != f"{stage}:{ports[stage]}":
            problems.append(f"compose gateway: SOUNDLOOP_STAGES__{stage.upper()} should be {stage}:{ports[stage]}")
        if gateway.get("depends_on", {}).get(stage, {}).get("condition") != "service_healthy":
            problems.append(f"compose gateway: should wait for {stage} to be healthy")
    if not any(str(p).split(":")[-2:] == [str(ports["gateway"])] * 2 for p in gateway.get("ports", [])):
        problems.append(f"compose gateway: should publish {ports['gateway']}")
    redis = [n for n, s in services.items() if str(s.get("image", "")).startswith("redis:")]
    for name, svc in services.items():
        problems += _compose_service_problems(name, svc, services, redis)
    return problems + _compose_serve_problems(services.get("serve", {}))


def _compose_service_problems(name: str, svc: dict, services: dict, redis: list[str]) -> list[str]:
    """Env names, Redis URL, health dependencies, CPU limit vs threads, image build of one service."""
    env = {k: str(v) for k, v in (svc.get("environment") or {}).items()}
    problems = mc.settings_env_problems(env, f"compose {name}")
    url = env.get("SOUNDLOOP_REDIS_URL")
    parsed = urllib.parse.urlsplit(mc.interpolate_defaults(url or "", {"REDIS_PASSWORD": "x"}))
    if url and (parsed.scheme != "redis" or parsed.hostname not in redis or parsed.port != 6379):
        problems.append(f"compose {name}: SOUNDLOOP_REDIS_URL {url} names no redis service on 6379")
    if url and svc.get("depends_on", {}).get(redis[0] if redis else "", {}).get("condition") != "service_healthy":
        problems.append(f"compose {name}: uses Redis but does not wait for it to be healthy")
    for dep, how in (svc.get("depends_on") or {}).items():
        if how.get("condition") == "service_healthy" and "healthcheck" not in services.get(dep, {}):
            problems.append(f"compose {name}: waits for {dep} to be healthy, but {dep} has no healthcheck")
    cpus = svc.get("deploy", {}).get("resources", {}).get("limits", {}).get("cpus")
    if cpus is None:
        problems.append(f"compose {name}: no CPU limit")
    for key, value in env.items():
        if cpus is not None and key.endswith("THREADS") and int(value) > math.ceil(float(cpus)):
            problems.append(f"compose {name}: {key}={value} exceeds its {cpus} CPU limit")
    if "build" in svc:
        build = svc["build"]
        if not (mc.REPO / build["context"] / build["dockerfile"]).is_file():
            problems.append(f"compose {name}: no Dockerfile at {build['dockerfile']}")
        if build.get("args", {}).get("PROFILE") != env.get("SOUNDLOOP_PROFILE"):
            problems.append(f"compose {name}: image PROFILE and SOUNDLOOP_PROFILE differ (models are baked in)")
    return problems


def _compose_serve_problems(serve: dict) -> list[str]:
    """The one-container Ray Serve service runs a config of the image's profile on the gateway port."""
    problems = []
    cmd = serve.get("command", [])
    config = mc.REPO / mc.interpolate_defaults(cmd[-1]) if cmd[:2] == ["serve", "run"] else None
    if config is None or not config.is_file():
        problems.append(f"compose serve: command {cmd} should `serve run` an existing config")
    else:
        doc = mc.load_yaml(config)
        profile = mc.interpolate_defaults(serve.get("build", {}).get("args", {}).get("PROFILE", ""))
        if doc["applications"][0]["args"]["profile"] != profile:
            problems.append(f"compose serve: {config.name} runs another profile than the image's {profile}")
        port = mc.serve_gateway_port(doc)
        if not any(str(p).endswith(f":{port}") for p in serve.get("ports", [])):
            problems.append(f"compose serve: should publish the gateway port {port}")
    return problems


def _containers(rayservice):
    cluster = rayservice["spec"]["rayClusterConfig"]
    groups = [("head", cluster["headGroupSpec"])] + [(g["groupName"], g) for g in cluster["workerGroupSpecs"]]
    return [(name, group, c) for name, group in groups for c in group["template"]["spec"]["containers"]]


def gateway_slots(group: dict) -> float:
    """How much of GATEWAY_RESOURCE a pod of `group` offers (rayStartParams.resources, a JSON string)."""
    text = group.get("rayStartParams", {}).get("resources", "").strip().strip('"').replace('\\"', '"')
    return float(json.loads(text).get(GATEWAY_RESOURCE, 0)) if text else 0.0


def _grpc_probe_problems(container: dict, port: int, where: str) -> list[str]:
    """The Gateway's grpc.health on its port: kubelet's grpc probe, or the probe script, which a
    gateway serving TLS needs (kubelet's probe speaks plaintext only)."""
    problems = []
    env = {e["name"]: e.get("value", "") for e in container.get("env", [])}
    tls_dir = env["SOUNDLOOP_SECURITY__TLS_CERT_FILE"].rsplit("/", 1)[0] if env.get(
        "SOUNDLOOP_SECURITY__TLS_CERT_FILE") else None
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = container.get(kind) or {}
        command = probe.get("exec", {}).get("command", [])
        script = command[:3] == ["python", PROBE, f"127.0.0.1:{port}"] and _arg(command, "--tls-dir") == tls_dir
        if not script and (tls_dir or probe.get("grpc", {}).get("port") != port):
            problems.append(f"{where}: {kind} should be a grpc probe of the Gateway's health on port {port}"
                            + (f" by {PROBE} --tls-dir {tls_dir}" if tls_dir else ""))
    return problems


def rayservice_wiring_problems(rayservice, serve_doc, redis_docs) -> list[str]:
    problems, cluster = [], rayservice["spec"]["rayClusterConfig"]
    if cluster.get("authOptions", {}).get("mode") != "token":
        problems.append("authOptions.mode should be token: Ray's dashboard runs code for anyone who reaches it")
    if cluster["rayVersion"] != pins()["ray"]:
        problems.append(f"rayVersion {cluster['rayVersion']} != ray pin {pins()['ray']} in requirements/runtime.txt")
    gateway_port = mc.serve_gateway_port(serve_doc)
    endpoint, head_ports = None, {}
    for group, spec, container in _containers(rayservice):
        where = f"{group} container {container['name']}"
        if container["image"] != f"{IMAGE_REPO}:{project_version()}":
            problems.append(f"{where}: image {container['image']} is not {IMAGE_REPO}:{project_version()}")
        env = {e["name"]: e for e in container.get("env", [])}
        for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_RESOURCE_ATTRIBUTES", "SOUNDLOOP_REDIS_URL"):
            if name not in env:
                problems.append(f"{where}: no {name} (proxies and replicas run on every node)")
        endpoint = endpoint or env.get("OTEL_EXPORTER_OTLP_ENDPOINT", {}).get("value")
        if env.get("OTEL_EXPORTER_OTLP_ENDPOINT", {}).get("value") != endpoint:
            problems.append(f"{where}: another OTLP endpoint than the other groups")
        problems += redis_url_problems(env.get("SOUNDLOOP_REDIS_URL", {}).get("value", ""), redis_docs, where)
        problems += mc.settings_env_problems({k: e.get("value", "x") for k, e in env.items()}, where)
        ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
        if group == "head":
            head_ports = ports
            for name in ("gcs-server", "dashboard", "client"):
                if name not in ports:
                    problems.append(f"head: declare port {name!r}: listing any port drops KubeRay's defaults")
            if container.get("readinessProbe") or container.get("startupProbe"):
                problems.append("head: keep KubeRay's default probes: it deploys the Serve app only once the head "
                                "is Ready, so a probe of a port the app opens never passes")
        if gateway_slots(spec):
            if ports.get("serve-grpc") != gateway_port:
                problems.append(f"{where}: port serve-grpc should be the gateway port {gateway_port}")
            problems += _grpc_probe_problems(container, gateway_port, where)
        elif "serve-grpc" in ports:
            problems.append(f"{where}: declares serve-grpc, but no Gateway runs there")
        limits = container.get("resources", {}).get("limits", {})
        if "nvidia.com/gpu" in limits and not any(t.get("key") == "nvidia.com/gpu" for t in
                                                  spec["template"]["spec"].get("tolerations", [])):
            problems.append(f"{where}: GPU pods need a nvidia.com/gpu toleration")
    if not any("nvidia.com/gpu" in c.get("resources", {}).get("limits", {}) for _, _, c in _containers(rayservice)):
        problems.append("no GPU worker group")
    if serve_doc.get("http_options", {}).get("port", 8000) != head_ports.get("serve", 8000):
        problems.append("http_options.port is not the port KubeRay health-checks (head port `serve`, else 8000)")
    problems += _placement_problems(cluster, serve_doc)
    return problems


def gateway_service_problems(service, rayservice, serve_doc) -> list[str]:
    """The callers' Service reaches exactly the pods that run the Gateway, on its port, as h2c."""
    problems = mc._errors(mc.kube_validator(mc.service_spec_schema()), service["spec"], "gateway Service spec")
    selector = service["spec"].get("selector", {})
    cluster = rayservice["spec"]["rayClusterConfig"]
    for group in [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]:
        labels = group["template"]["metadata"]["labels"]
        if (selector.items() <= labels.items()) != bool(gateway_slots(group)):
            problems.append(f"gateway Service: selector {selector} should match the Gateway's pods only, "
                            f"not {group.get('groupName', 'head')} (labels {labels})")
    ports = service["spec"]["ports"]
    if [(p.get("port"), p.get("targetPort")) for p in ports] != [(mc.serve_gateway_port(serve_doc), "serve-grpc")]:
        problems.append(f"gateway Service: want one port, {mc.serve_gateway_port(serve_doc)}, targetPort serve-grpc "
                        "(by name)")
    tls = any(e["name"] == "SOUNDLOOP_SECURITY__TLS_CERT_FILE" for g in cluster["workerGroupSpecs"] if gateway_slots(g)
              for c in g["template"]["spec"]["containers"] for e in c.get("env", []))
    if any(p.get("appProtocol") != (None if tls else "kubernetes.io/h2c") for p in ports):
        problems.append("gateway Service: appProtocol kubernetes.io/h2c for a plaintext gateway, none for one "
                        "serving TLS (h2c would make a proxy speak plaintext to it)")
    return problems


def cpu_quantity(value) -> float:
    text = str(value)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def _placement_problems(cluster, serve_doc) -> list[str]:
    """Deployments must be schedulable where the RayService puts capacity."""
    problems, deps = [], mc.deployments(serve_doc)
    gateway = deps["Gateway"]
    need = gateway.get("ray_actor_options", {}).get("resources", {}).get(GATEWAY_RESOURCE, 0)
    offered = [(g["maxReplicas"], gateway_slots(g)) for g in cluster["workerGroupSpecs"] if gateway_slots(g)]
    if not need or not offered:
        problems.append(f"Gateway must be placed by the {GATEWAY_RESOURCE} resource, which only the gateway "
                        "group offers (its pods expose serve-grpc and probe the Gateway)")
    elif mc.max_replicas(gateway) * need > sum(n * slots for n, slots in offered):
        problems.append(f"Gateway: {mc.max_replicas(gateway)} replicas do not fit the gateway group")
    if gateway_slots(cluster["headGroupSpec"]):
        problems.append("head: offers soundloop_gateway, but its probes cannot check the Gateway")

    def cpus(group) -> float:
        declared = group.get("rayStartParams", {}).get("num-cpus")
        return float(declared) if declared is not None else cpu_quantity(
            group["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"])

    for group in [cluster["headGroupSpec"], *[g for g in cluster["workerGroupSpecs"] if gateway_slots(g)]]:
        if cpus(group) != 0:
            problems.append(f"{group.get('groupName', 'head')}: num-cpus should be \"0\", so no stage replica "
                            "lands there")
    workers = [(g["maxReplicas"], cpus(g)) for g in cluster["workerGroupSpecs"] if not gateway_slots(g)]
    stages = set(deps) - {"Gateway"}
    for name in stages:
        need = deps[name]["ray_actor_options"].get("num_cpus", 1)
        if not any(need <= c for _, c in workers):
            problems.append(f"{name}: a replica needs {need} CPUs, no worker pod has that many")
    total = sum(deps[n]["ray_actor_options"].get("num_cpus", 1) * mc.max_replicas(deps[n]) for n in stages)
    if total > sum(n * c for n, c in workers):
        problems.append(f"at max_replicas the stages need {total} CPUs, more than the worker groups can reach")
    return problems


def redis_url_problems(url: str, redis_docs, where: str) -> list[str]:
    """SOUNDLOOP_REDIS_URL (with $(VAR) references) names the Redis Service on its port, or an outside host."""
    services = {d["metadata"]["name"]: d for d in redis_docs if d["kind"] == "Service"}
    match = re.fullmatch(r"rediss?://(?:[^@]*@)?([^:/]+):(\d+)/\d+", url)
    if not match:
        return [f"{where}: SOUNDLOOP_REDIS_URL {url!r} is not a redis:// URL"]
    host, port = match.group(1), int(match.group(2))
    if host in services and port not in [p["port"] for p in services[host]["spec"]["ports"]]:
        return [f"{where}: SOUNDLOOP_REDIS_URL port {port} is not the Service {host}'s"]
    if host not in services and "." not in host:
        return [f"{where}: SOUNDLOOP_REDIS_URL host {host} is no Service here"]
    return []


def redis_wiring_problems(redis_docs) -> list[str]:
    """The Service reaches the Redis container's port."""
    problems = mc.core_manifest_problems(redis_docs)
    deployment = next(d for d in redis_docs if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    ports = {p.get("name"): p["containerPort"] for p in container["ports"]}
    if ports.get("redis") != 6379:
        problems.append("redis.yaml: the container port `redis` should be 6379, as the URLs say")
    return problems


# ---------------------------------------------------------------- tests

def test_entry_points_exist():
    """services.<stage>.server (with --port) and services.app:build_app, as the manifests name them."""
    d = loaded()
    assert entry_point_problems(d["compose"], [d["serve"], load("deploy/serve/soundloop-light.yaml")],
                                d["dockerfile"]) == []


def test_entry_point_check_catches_a_missing_module():
    d = loaded()
    broken = copy.deepcopy(d["compose"])
    broken["services"]["tts"]["command"][2] = "services.tts.nope"
    serve = copy.deepcopy(d["serve"])
    serve["applications"][0]["import_path"] = "services.nope:build_app"
    problems = entry_point_problems(broken, [serve], "")
    assert any("services.tts.nope" in p for p in problems) and any("services.nope" in p for p in problems)


def test_compose_wiring():
    assert compose_wiring_problems(loaded()["compose"]) == []


@pytest.mark.parametrize("service, path, value, needle", [
    ("gateway", ("environment", "SOUNDLOOP_STAGES__LLM"), "llm:50099", "SOUNDLOOP_STAGES__LLM"),
    ("encoder", ("command", 4), "50099", "services.encoder.server"),
    ("tts", ("healthcheck", "test", 3), "127.0.0.1:50099", "healthcheck"),
    ("gateway", ("environment", "SOUNDLOOP_REDIS__URL"), "redis://redis:6379/0", "no setting"),
    ("llm", ("environment", "SOUNDLOOP_LLM__THREADS"), "8", "exceeds"),
    ("gateway", ("environment", "SOUNDLOOP_REDIS_URL"), "redis://cache:6379/0", "names no redis service"),
    ("redis", ("healthcheck",), None, "no healthcheck"),
    ("serve", ("command", 2), "deploy/serve/soundloop-light.yaml", "another profile"),
])
def test_compose_wiring_catches_drift(service, path, value, needle):
    compose = copy.deepcopy(loaded()["compose"])
    target = compose["services"][service]
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    assert any(needle in p for p in compose_wiring_problems(compose)), compose_wiring_problems(compose)


def test_rayservice_wiring():
    d = loaded()
    assert rayservice_wiring_problems(d["rayservice"], d["serve"], d["redis"]) == []
    assert gateway_service_problems(d["gateway_service"], d["rayservice"], d["serve"]) == []
    assert redis_wiring_problems(d["redis"]) == []


def test_rayservice_wiring_catches_drift():
    d = loaded()
    broken = copy.deepcopy(d["rayservice"])
    cluster = broken["spec"]["rayClusterConfig"]
    head = cluster["headGroupSpec"]["template"]["spec"]["containers"][0]
    head["ports"] = [p for p in head["ports"] if p["name"] != "gcs-server"]
    head["readinessProbe"] = {"grpc": {"port": 50051}}
    gateway_group = next(g for g in cluster["workerGroupSpecs"] if gateway_slots(g))
    gateway = gateway_group["template"]["spec"]["containers"][0]
    next(p for p in gateway["ports"] if p["name"] == "serve-grpc")["containerPort"] = 50052
    del gateway["livenessProbe"]
    gateway_group["rayStartParams"]["num-cpus"] = "2"
    cpu_group = next(g for g in cluster["workerGroupSpecs"] if g["groupName"] == "cpu")
    cpu_group["template"]["spec"]["containers"][0]["env"] = []
    next(g for g in cluster["workerGroupSpecs"] if g["groupName"] == "gpu")["template"]["spec"].pop("tolerations")
    cluster["rayVersion"] = "2.59.0"
    serve = copy.deepcopy(d["serve"])
    mc.deployments(serve)["Gateway"]["ray_actor_options"] = {"num_cpus": 0.25}
    mc.deployments(serve)["Llm"]["ray_actor_options"]["num_cpus"] = 8
    problems = rayservice_wiring_problems(broken, serve, d["redis"])
    for needle in ("gcs-server", "head: keep KubeRay's default probes", "serve-grpc should be", "livenessProbe",
                   "gateway: num-cpus", "OTEL_EXPORTER_OTLP_ENDPOINT", "toleration", "rayVersion",
                   "placed by the soundloop_gateway", "Llm: a replica needs"):
        assert any(needle in p for p in problems), (needle, problems)
    service = copy.deepcopy(d["gateway_service"])
    service["spec"]["ports"][0]["targetPort"] = 50051
    service["spec"]["selector"] = {"app.kubernetes.io/name": "soundloop"}  # would send callers to stage pods
    problems = gateway_service_problems(service, d["rayservice"], d["serve"])
    for needle in ("targetPort serve-grpc", "not cpu"):
        assert any(needle in p for p in problems), (needle, problems)
    redis = copy.deepcopy(d["redis"])
    next(x for x in redis if x["kind"] == "Service")["spec"]["ports"][0]["port"] = 6380
    problems = rayservice_wiring_problems(d["rayservice"], d["serve"], redis)
    assert any("port 6379 is not the Service" in p for p in problems), problems
    next(x for x in redis if x["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]["ports"][0][
        "containerPort"] = 6380
    assert redis_wiring_problems(redis)


def test_kustomization_ties_the_manifests_together():
    folder = mc.REPO / "deploy" / "kuberay"
    kustomization = mc.load_yaml(folder / "kustomization.yaml")
    listed = set(kustomization["resources"])
    templates = {p.name for p in folder.glob("*.example.yaml")}
    assert listed == {p.name for p in folder.glob("*.yaml")} - {"kustomization.yaml"} - templates
    assert {i["name"] for i in kustomization.get("images", [])} == {IMAGE_REPO}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with its built-in kustomize) not installed")
def test_kustomize_renders_offline():
    out = subprocess.run(["kubectl", "kustomize", str(mc.REPO / "deploy" / "kuberay")],
                         check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    docs = [x for x in yaml.safe_load_all(out.stdout) if x]
    (rayservice,) = [x for x in docs if x["kind"] == "RayService"]
    assert mc.rayservice_problems(rayservice) == []
    assert yaml.safe_load(rayservice["spec"]["serveConfigV2"]) == loaded()["serve"]
