"""Cluster hygiene, offline: who runs as whom, what is exposed, where every secret comes from.

Pods run non-root on a read-only root without privileges; only the gateway port is exposed; no
Secret in the repo holds a real value and every Secret the pods read is described; the LLM key
comes from a Secret; the public API runs with TLS, API keys and no reflection (Compose: plaintext
on loopback, for local development). Each check has a negative twin that breaks a copy.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re

import cluster_manifests as cm
import manifest_checks as mc
import pytest
import yaml

pytestmark = pytest.mark.unit

SOUNDLOOP_HOME = "/home/soundloop"  # the Dockerfile's `useradd --create-home soundloop`
REDIS_UID, REDIS_GID = 999, 1000  # the redis:7-alpine image's `redis` user and group
PLACEHOLDER = "REPLACE_ME"
EXAMPLE_API_KEY = "sl-dev-example-key-not-a-secret"  # deploy/compose/tenants.example.json's tenant "dev"
SENSITIVE_ENV = re.compile(r"PASSWORD|API_KEY|TOKEN|SECRET|REDISCLI_AUTH")
COMPOSE_REF = re.compile(r"\$\{(\w+)[^}]*\}")


@pytest.fixture
def d():
    return cm.manifests()


# ---------------------------------------------------------------- non-root, read-only, unprivileged

def _writable_paths(container: dict) -> list[str]:
    """What must stay writable under a read-only root, by image."""
    if container["image"].startswith("redis:"):
        return ["/data"]
    return ["/tmp", SOUNDLOOP_HOME]  # Ray's /tmp/ray and temporary files; library caches under HOME


def container_security_problems(where: str, spec: dict, container: dict) -> list[str]:
    problems, sc = [], container.get("securityContext") or {}
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{where}: allowPrivilegeEscalation must be false")
    if sc.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{where}: readOnlyRootFilesystem must be true (mount emptyDirs where it writes)")
    capabilities = sc.get("capabilities") or {}
    if "ALL" not in capabilities.get("drop", []) or capabilities.get("add"):
        problems.append(f"{where}: capabilities must drop ALL and add none")
    if sc.get("privileged") or sc.get("runAsUser") == 0 or sc.get("runAsNonRoot") is False:
        problems.append(f"{where}: must not run privileged or as root")
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {m["mountPath"]: volumes.get(m["name"], {}) for m in container.get("volumeMounts", [])}
    for path in _writable_paths(container):
        if "emptyDir" not in mounts.get(path, {}):
            problems.append(f"{where}: mount an emptyDir at {path} (the root filesystem is read-only)")
    return problems


def pod_security_problems(d) -> list[str]:
    problems = []
    app_user = cm.dockerfile_user(d["dockerfile"])
    if 0 in app_user:
        problems.append("Dockerfile: the runtime stage needs a numeric non-root USER uid:gid")
    for where, template in cm.pod_templates(d):
        sc = template["spec"].get("securityContext") or {}
        redis = template["spec"]["containers"][0]["image"].startswith("redis:")
        want = (REDIS_UID, REDIS_GID) if redis else app_user
        if sc.get("runAsNonRoot") is not True:
            problems.append(f"{where}: pod securityContext.runAsNonRoot must be true")
        if (sc.get("runAsUser"), sc.get("runAsGroup"), sc.get("fsGroup")) != (want[0], want[1], want[1]):
            problems.append(f"{where}: runAsUser/runAsGroup/fsGroup should be the image's user {want}, "
                            f"got {(sc.get('runAsUser'), sc.get('runAsGroup'), sc.get('fsGroup'))}")
        if (sc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            problems.append(f"{where}: seccompProfile RuntimeDefault")
    for where, spec, container in cm.containers(d):
        problems += container_security_problems(where, spec, container)
    return problems


def test_every_pod_runs_non_root_read_only_unprivileged(d):
    assert pod_security_problems(d) == []


def test_pod_security_check_catches_drift(d):
    cluster = d["rayservice"]["spec"]["rayClusterConfig"]
    gpu = next(g for g in cluster["workerGroupSpecs"] if g["groupName"] == "gpu")["template"]["spec"]
    gpu["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = False
    cluster["headGroupSpec"]["template"]["spec"]["securityContext"].pop("seccompProfile")
    del cluster["autoscalerOptions"]["securityContext"]
    gateway = next(g for g in cluster["workerGroupSpecs"] if cm.offers_gateway(g))["template"]["spec"]
    gateway["containers"][0]["volumeMounts"] = [m for m in gateway["containers"][0]["volumeMounts"]
                                                if m["mountPath"] != "/tmp"]
    redis = next(x for x in d["redis"] if x["kind"] == "Deployment")["spec"]["template"]["spec"]
    redis["containers"][0]["securityContext"]["capabilities"] = {"add": ["NET_ADMIN"]}
    redis["securityContext"]["runAsUser"] = 0
    d["dockerfile"] = d["dockerfile"].replace("USER 1000:1000", "USER soundloop")
    problems = pod_security_problems(d)
    for needle in ("gpu ray-worker: readOnlyRootFilesystem", "head: seccompProfile", "autoscaler: allowPrivilege",
                   "gateway ray-worker: mount an emptyDir at /tmp", "redis: capabilities",
                   "soundloop-redis: runAsUser", "numeric non-root USER"):
        assert any(needle in p for p in problems), (needle, problems)


# ---------------------------------------------------------------- Services, Secrets, the LLM key

def exposure_problems(d) -> list[str]:
    problems = []
    service = d["gateway_service"]
    ports = [(p.get("port"), p.get("targetPort")) for p in service["spec"].get("ports", [])]
    if ports != [(cm.GATEWAY_PORT, "serve-grpc")]:
        problems.append(f"gateway Service: exposes {ports}; only the gateway port {cm.GATEWAY_PORT} (serve-grpc)")
    for doc in d["redis"]:
        if doc["kind"] == "Service" and (doc["spec"].get("type", "ClusterIP") != "ClusterIP"
                                         or doc["spec"].get("externalIPs")):
            problems.append(f"Service {doc['metadata']['name']}: cluster-internal only (ClusterIP)")
    serve_service = d["rayservice"]["spec"].get("serveService") or {}
    if serve_service.get("spec", {}).get("type", "ClusterIP") != "ClusterIP":
        problems.append("RayService serveService: cluster-internal only (ClusterIP)")
    return problems


def test_only_the_gateway_port_is_exposed(d):
    assert exposure_problems(d) == []


def test_exposure_check_catches_drift(d):
    d["gateway_service"]["spec"]["ports"].append({"name": "dashboard", "port": 8265, "targetPort": 8265})
    next(x for x in d["redis"] if x["kind"] == "Service")["spec"]["type"] = "NodePort"
    problems = exposure_problems(d)
    assert any("gateway Service" in p for p in problems) and any("soundloop-redis" in p for p in problems)


def _secret_values(doc: dict) -> dict[str, str]:
    values = dict(doc.get("stringData") or {})
    values.update({k: base64.b64decode(v).decode(errors="replace") for k, v in (doc.get("data") or {}).items()})
    return values


def _referenced_secrets(d) -> set[tuple[str, str]]:
    """(Secret, key) pairs that the pods read, optional ones apart."""
    refs = set()
    for _, _, container in cm.containers(d):
        for var in container.get("env", []):
            ref = var.get("valueFrom", {}).get("secretKeyRef")
            if ref and not ref.get("optional"):
                refs.add((ref["name"], ref["key"]))
    for _, template in cm.pod_templates(d):
        for volume in template["spec"].get("volumes", []):
            secret = volume.get("secret")
            if secret and not secret.get("optional"):
                keys = [i["key"] for i in secret.get("items", [])] or [None]
                refs |= {(secret["secretName"], k) for k in keys}
    return refs


def secret_problems(d, files: dict[str, str]) -> list[str]:
    """`files`: path -> text of every manifest in the repo."""
    problems = []
    for path, text in files.items():
        if "PRIVATE KEY-----" in text:
            problems.append(f"{path}: holds a private key")
        docs = [x for x in yaml.safe_load_all(text) if x] if path.endswith((".yaml", ".yml")) else []
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "Secret":
                real = [k for k, v in _secret_values(doc).items() if PLACEHOLDER not in v]
                if real:
                    problems.append(f"{path}: Secret {doc['metadata']['name']} holds values that are not "
                                    f"{PLACEHOLDER}: {real}")
    listed = set(d["kustomization"].get("resources", []))
    for name in listed:
        if any(doc.get("kind") == "Secret" for doc in mc.load_yaml_all(cm.KUBERAY / name)):
            problems.append(f"kustomization.yaml: applies {name}, whose Secret would overwrite the real one")
    templates = {doc["metadata"]["name"]: _secret_values(doc) for doc in d["secrets"]}
    for name, key in sorted(_referenced_secrets(d), key=str):
        if name not in templates or (key and key not in templates[name]):
            problems.append(f"secrets.example.yaml: describe Secret {name} key {key}, which the pods read")
    for where, _, container in cm.containers(d):
        for var in container.get("env", []):
            if SENSITIVE_ENV.search(var["name"]) and "value" in var and not cm.K8S_REF.fullmatch(var["value"]):
                problems.append(f"{where}: {var['name']} holds a literal value; take it from a Secret")
    for name, service in d["compose"]["services"].items():
        for key, value in (service.get("environment") or {}).items():
            literal = COMPOSE_REF.sub("", str(value))
            if SENSITIVE_ENV.search(key) and (literal or not COMPOSE_REF.search(str(value))):
                problems.append(f"compose {name}: {key} holds a literal value; take it from the environment")
    return problems


def manifest_files() -> dict[str, str]:
    paths = [*(mc.REPO / "deploy").rglob("*.y*ml"), *(mc.REPO / "deploy").rglob("*.json"),
             mc.REPO / "docker-compose.yml"]
    return {str(p.relative_to(mc.REPO)): p.read_text() for p in sorted(paths) if "schemas" not in p.parts}


def test_no_secret_in_the_repo_and_every_read_secret_is_described(d):
    assert secret_problems(d, manifest_files()) == []


def test_secret_check_catches_drift(d):
    files = manifest_files()
    files["deploy/kuberay/secrets.example.yaml"] = files["deploy/kuberay/secrets.example.yaml"].replace(
        "password: REPLACE_ME", "password: hunter2")
    files["deploy/leak.yaml"] = "-----BEGIN PRIVATE KEY-----\n"
    d["kustomization"]["resources"].append("secrets.example.yaml")
    cpu = next(g for g in d["rayservice"]["spec"]["rayClusterConfig"]["workerGroupSpecs"] if g["groupName"] == "cpu")
    cpu["template"]["spec"]["containers"][0]["env"] += [
        {"name": "OTHER", "valueFrom": {"secretKeyRef": {"name": "soundloop-other", "key": "k"}}},
        {"name": "SOME_TOKEN", "value": "abc"}]
    d["compose"]["services"]["redis"]["environment"]["REDISCLI_AUTH"] = "letmein"
    problems = secret_problems(d, files)
    for needle in ("not REPLACE_ME: ['password']", "leak.yaml: holds a private key", "applies secrets.example.yaml",
                   "Secret soundloop-other key k", "SOME_TOKEN holds a literal", "REDISCLI_AUTH holds a literal"):
        assert any(needle in p for p in problems), (needle, problems)


def llm_key_problems(d) -> list[str]:
    """The LLM API key reaches the pods that can run Llm replicas from a Secret, and nothing else holds it."""
    problems = []
    for name, group in cm.groups(d):
        for container in group["template"]["spec"]["containers"]:
            var = next((e for e in container.get("env", []) if e["name"] == "SOUNDLOOP_LLM__OPENAI_API_KEY"), None)
            ref = (var or {}).get("valueFrom", {}).get("secretKeyRef", {})
            runs_llm = group.get("rayStartParams", {}).get("num-cpus") != "0"
            if (runs_llm or var) and not (ref.get("name") == "soundloop-llm" and ref.get("optional") is True):
                problems.append(f"{name}: SOUNDLOOP_LLM__OPENAI_API_KEY should come from Secret soundloop-llm "
                                f"(secretKeyRef, optional: true), got {var}")
    for doc in [*d["serve"], yaml.safe_load(d["rayservice"]["spec"]["serveConfigV2"])]:
        if re.search(r"openai_api_key|OPENAI_API_KEY", json.dumps(doc), re.IGNORECASE):
            problems.append("a Serve config holds the LLM API key: anyone who reads the RayService reads it")
    for name in ("llm", "serve"):
        value = str(d["compose"]["services"][name].get("environment", {}).get("SOUNDLOOP_LLM__OPENAI_API_KEY", ""))
        if not value.startswith("${SOUNDLOOP_LLM__OPENAI_API_KEY"):
            problems.append(f"compose {name}: SOUNDLOOP_LLM__OPENAI_API_KEY should come from the environment")
    return problems


def test_the_llm_key_comes_from_a_secret(d):
    assert llm_key_problems(d) == []


def test_llm_key_check_catches_drift(d):
    gpu = next(g for g in d["rayservice"]["spec"]["rayClusterConfig"]["workerGroupSpecs"] if g["groupName"] == "gpu")
    env = gpu["template"]["spec"]["containers"][0]["env"]
    gpu["template"]["spec"]["containers"][0]["env"] = [e for e in env if e["name"] != "SOUNDLOOP_LLM__OPENAI_API_KEY"]
    d["serve"][0]["applications"][0]["args"]["settings"] = {"llm": {"openai_api_key": "sk-1"}}
    del d["compose"]["services"]["serve"]["environment"]["SOUNDLOOP_LLM__OPENAI_API_KEY"]
    problems = llm_key_problems(d)
    for needle in ("gpu: SOUNDLOOP_LLM__OPENAI_API_KEY", "a Serve config holds", "compose serve"):
        assert any(needle in p for p in problems), (needle, problems)


# ---------------------------------------------------------------- the public API: TLS, API keys

def _secret_mounts(spec: dict, container: dict) -> dict[str, tuple[str, dict]]:
    """Secret name -> (mount path, volume) in `container`."""
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    out = {}
    for mount in container.get("volumeMounts", []):
        secret = volumes.get(mount["name"], {}).get("secret")
        if secret:
            if mount.get("subPath") or not mount.get("readOnly"):
                out[secret["secretName"]] = ("(mounted read-write or by subPath: no updates)", volumes[mount["name"]])
            else:
                out[secret["secretName"]] = (mount["mountPath"], volumes[mount["name"]])
    return out


def gateway_security_problems(d) -> list[str]:
    problems = []
    for name, group in cm.groups(d):
        if not cm.offers_gateway(group):
            continue
        spec = group["template"]["spec"]
        container = spec["containers"][0]
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        mounts = _secret_mounts(spec, container)
        tls_dir = mounts.get("soundloop-gateway-tls", ("?",))[0]
        tenants_dir = mounts.get("soundloop-tenants", ("?",))[0]
        want = {"SOUNDLOOP_SECURITY__TLS_CERT_FILE": f"{tls_dir}/tls.crt",
                "SOUNDLOOP_SECURITY__TLS_KEY_FILE": f"{tls_dir}/tls.key",
                "SOUNDLOOP_SECURITY__TENANTS_FILE": f"{tenants_dir}/tenants.json",
                "SOUNDLOOP_SECURITY__REFLECTION": "false"}
        for key, value in want.items():
            if env.get(key) != value:
                problems.append(f"{name}: {key} should be {value} (a read-only whole-Secret mount), "
                                f"got {env.get(key)}")
        for key in ("SOUNDLOOP_SECURITY__PLAINTEXT", "SOUNDLOOP_SECURITY__ANONYMOUS"):
            if str(env.get(key, "false")).lower() != "false":
                problems.append(f"{name}: {key} is for local development only")
        if env.get("SOUNDLOOP_SECURITY__TLS_CLIENT_CA_FILE") not in (None, f"{tls_dir}/ca.crt"):
            problems.append(f"{name}: the client CA is the TLS Secret's ca.crt")
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            command = (container.get(kind) or {}).get("exec", {}).get("command", [])
            address = f"127.0.0.1:{cm.GATEWAY_PORT}"
            if command[:3] != ["python", cm.PROBE, address] or _flag(command, "--tls-dir") != tls_dir:
                problems.append(f"{name}: {kind} should run {cm.PROBE} {address} --tls-dir {tls_dir} "
                                "(kubelet's grpc probe cannot speak TLS)")
    for name in ("gateway", "serve"):
        service = d["compose"]["services"][name]
        env = service.get("environment", {})
        if env.get("SOUNDLOOP_SECURITY__PLAINTEXT") != "true" or env.get("SOUNDLOOP_SECURITY__ANONYMOUS"):
            problems.append(f"compose {name}: plaintext (local development), API keys still required")
        mount = f"./deploy/compose/tenants.example.json:{env.get('SOUNDLOOP_SECURITY__TENANTS_FILE')}:ro"
        if mount not in service.get("volumes", []):
            problems.append(f"compose {name}: mount the example tenants file at SOUNDLOOP_SECURITY__TENANTS_FILE")
        if not all(str(p).startswith("127.0.0.1:") for p in service.get("ports", [])):
            problems.append(f"compose {name}: a plaintext gateway publishes on 127.0.0.1 only")
    return problems


def _flag(command: list[str], flag: str):
    return command[command.index(flag) + 1] if flag in command[:-1] else None


def test_gateway_runs_with_tls_api_keys_and_no_reflection(d):
    assert gateway_security_problems(d) == []


def test_gateway_security_check_catches_drift(d):
    gateway = next(g for _, g in cm.groups(d) if cm.offers_gateway(g))["template"]["spec"]["containers"][0]
    next(e for e in gateway["env"] if e["name"] == "SOUNDLOOP_SECURITY__REFLECTION")["value"] = "true"
    gateway["readinessProbe"] = {"grpc": {"port": cm.GATEWAY_PORT}}
    next(m for m in gateway["volumeMounts"] if m["name"] == "tenants")["subPath"] = "tenants.json"
    d["compose"]["services"]["gateway"]["environment"]["SOUNDLOOP_SECURITY__ANONYMOUS"] = "true"
    d["compose"]["services"]["serve"]["ports"] = ["50052:50051"]
    problems = gateway_security_problems(d)
    for needle in ("REFLECTION should be false", "readinessProbe should run", "TENANTS_FILE should be",
                   "compose gateway: plaintext", "compose serve: a plaintext gateway publishes"):
        assert any(needle in p for p in problems), (needle, problems)


def test_example_tenants_file_holds_the_documented_example_key():
    from services.gateway.access import TenantsFile

    path = mc.REPO / "deploy" / "compose" / "tenants.example.json"
    tenants = TenantsFile.model_validate_json(path.read_text()).tenants
    assert [t.name for t in tenants] == ["dev"]
    assert tenants[0].api_key_sha256 == [hashlib.sha256(EXAMPLE_API_KEY.encode()).hexdigest()]
    for doc in ("docker-compose.yml", "deploy/README.md"):
        assert EXAMPLE_API_KEY in (mc.REPO / doc).read_text(), f"{doc} should name the example key"


def test_the_compose_tls_override_runs_the_gateway_over_mutual_tls_from_dev_certs(tmp_path):
    """`docker compose -f docker-compose.yml -f deploy/compose/tls.yaml`: the settings the gateway needs
    for mTLS, the files soundloop.dev_certs writes mounted where those settings point, and the
    healthcheck probing over TLS."""
    from soundloop import dev_certs
    override = mc.load_yaml(mc.REPO / "deploy/compose/tls.yaml")
    assert mc.compose_problems(override) == []
    gateway = override["services"]["gateway"]
    env = gateway["environment"]
    assert env["SOUNDLOOP_SECURITY__PLAINTEXT"] == "false" and env["SOUNDLOOP_SECURITY__REFLECTION"] == "false"
    mounts = {target: source for source, target, _ in (v.split(":") for v in gateway["volumes"])}
    made = dev_certs.issue_set(tmp_path)  # what `python -m soundloop.dev_certs deploy/compose/tls` writes
    for setting, file in [("TLS_CERT_FILE", "server_crt"), ("TLS_KEY_FILE", "server_key"),
                          ("TLS_CLIENT_CA_FILE", "ca")]:
        name = made[file].rsplit("/", 1)[1]
        assert mounts[env[f"SOUNDLOOP_SECURITY__{setting}"]] == f"./deploy/compose/tls/{name}", setting
    assert gateway["healthcheck"]["test"][-2:] == ["--tls-dir", "/etc/soundloop/tls"]
    assert "/deploy/compose/tls/" in (mc.REPO / ".gitignore").read_text().split()
