"""The deployment manifests as the security tests read them: loaded fresh (tests break copies),
with every pod template and container, KubeRay's autoscaler sidecar included."""
from __future__ import annotations

import re

import manifest_checks as mc

KUBERAY = mc.REPO / "deploy" / "kuberay"
PROBE = "/app/deploy/docker/grpc_health_probe.py"
GATEWAY_PORT = 50051
NAMESPACE = {"kubernetes.io/metadata.name": "soundloop"}  # where the kustomization is applied
K8S_REF = re.compile(r"\$\((\w+)\)")  # Kubernetes' $(VAR) in env values, command and args


def manifests() -> dict:
    (rayservice,) = mc.load_yaml_all(KUBERAY / "rayservice.yaml")
    return {"rayservice": rayservice, "redis": mc.load_yaml_all(KUBERAY / "redis.yaml"),
            "policies": mc.load_yaml_all(KUBERAY / "network-policies.yaml"),
            "secrets": mc.load_yaml_all(KUBERAY / "secrets.example.yaml"),
            "gateway_service": mc.load_yaml(KUBERAY / "gateway-service.yaml"),
            "kustomization": mc.load_yaml(KUBERAY / "kustomization.yaml"),
            "compose": mc.load_yaml(mc.REPO / "docker-compose.yml"),
            "serve": [mc.load_yaml(p) for p in sorted((mc.REPO / "deploy" / "serve").glob("*.yaml"))],
            "dockerfile": (mc.REPO / "deploy" / "docker" / "Dockerfile").read_text()}


def groups(d) -> list[tuple[str, dict]]:
    cluster = d["rayservice"]["spec"]["rayClusterConfig"]
    return [("head", cluster["headGroupSpec"])] + [(g["groupName"], g) for g in cluster["workerGroupSpecs"]]


def offers_gateway(group: dict) -> bool:
    return "soundloop_gateway" in group.get("rayStartParams", {}).get("resources", "")


def pod_templates(d) -> list[tuple[str, dict]]:
    out = [(f"RayService {name}", group["template"]) for name, group in groups(d)]
    return out + [(f"Deployment {doc['metadata']['name']}", doc["spec"]["template"])
                  for doc in d["redis"] if doc["kind"] == "Deployment"]


def containers(d) -> list[tuple[str, dict, dict]]:
    """(where, pod spec, container) of every container, KubeRay's autoscaler sidecar included."""
    out = []
    for where, template in pod_templates(d):
        spec = template["spec"]
        out += [(f"{where} {c['name']}", spec, c) for c in spec["containers"] + spec.get("initContainers", [])]
    cluster = d["rayservice"]["spec"]["rayClusterConfig"]
    if cluster.get("enableInTreeAutoscaling"):
        head = cluster["headGroupSpec"]
        sidecar = {"name": "autoscaler", "image": head["template"]["spec"]["containers"][0]["image"],
                   **{k: v for k, v in (cluster.get("autoscalerOptions") or {}).items() if k in (
                       "securityContext", "volumeMounts", "env")}}
        out.append(("RayService head autoscaler", head["template"]["spec"], sidecar))
    return out


def dockerfile_user(text: str) -> tuple[int, int]:
    """The runtime image's numeric USER uid:gid (0, 0 if it has none or a name)."""
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    match = re.fullmatch(r"(\d+):(\d+)", users[-1]) if users else None
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def secret_ref(env: list[dict], name: str) -> tuple:
    """(Secret, key) that env variable `name` reads, (None, None) if it reads none."""
    var = next((e for e in env if e["name"] == name), {})
    ref = var.get("valueFrom", {}).get("secretKeyRef", {})
    return ref.get("name"), ref.get("key")
