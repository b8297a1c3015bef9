"""NetworkPolicies, evaluated offline with Kubernetes' semantics: every soundloop pod is isolated,
and a matrix of sources and ports says who must and who must not get through (Ray among its own
pods, Redis from them only, the gateway port from anywhere, metrics from Prometheus, the KubeRay
operator to the head).
"""
from __future__ import annotations

import copy

import cluster_manifests as cm
import manifest_checks as mc
import network_reach as reach
import pytest

pytestmark = pytest.mark.unit


@pytest.fixture
def d():
    return cm.manifests()


def _pods(d) -> dict[str, dict]:
    return {where.split()[-1]: template["metadata"]["labels"] for where, template in cm.pod_templates(d)}


def reachability(d) -> list[tuple[str, reach.Peer, str, int, bool]]:
    """(source, peer, destination pod, port, allowed?) that must hold."""
    pods = _pods(d)
    ray = {name: labels for name, labels in pods.items() if name != "soundloop-redis"}
    ns = lambda name: {"kubernetes.io/metadata.name": name}  # noqa: E731
    outside = reach.Peer(None, None)
    stranger = reach.Peer({"app": "other"}, cm.NAMESPACE)
    lookalike = reach.Peer({"app.kubernetes.io/name": "soundloop"}, ns("elsewhere"))  # our label, another namespace
    prometheus = reach.Peer({"app.kubernetes.io/name": "prometheus"}, ns("monitoring"))
    operator = reach.Peer({"app.kubernetes.io/name": "kuberay-operator",
                        "app.kubernetes.io/component": "kuberay-operator"}, ns("kuberay-system"))
    cases = []
    for src, labels in ray.items():
        peer = reach.Peer(labels, cm.NAMESPACE)
        cases += [(src, peer, dst, port, True) for dst in ray for port in (6379, 8265, 10001, 8080, 12345)]
        cases += [(src, peer, "soundloop-redis", 6379, True), (src, peer, "soundloop-redis", 6380, False)]
    for name, peer in (("outside", outside), ("stranger", stranger), ("lookalike", lookalike)):
        cases += [(name, peer, "soundloop-redis", 6379, False), (name, peer, "gateway", cm.GATEWAY_PORT, True),
                  (name, peer, "gateway", 8080, False), (name, peer, "head", 8265, False),
                  (name, peer, "head", 6379, False), (name, peer, "cpu", cm.GATEWAY_PORT, False)]
    cases += [("prometheus", prometheus, dst, 8080, True) for dst in ray]
    cases += [("prometheus", prometheus, "head", 8265, False),
              ("prometheus", prometheus, "soundloop-redis", 6379, False)]
    cases += [("operator", operator, "head", 8265, True), ("operator", operator, "head", 8000, True),
              ("operator", operator, "head", 6379, False), ("operator", operator, "cpu", 8265, False),
              ("operator", operator, "soundloop-redis", 6379, False)]
    return cases


def network_policy_problems(d) -> list[str]:
    policies = d["policies"]
    problems = mc.core_manifest_problems(policies)
    deny = [p for p in policies if "Ingress" in reach.policy_types(p) and not p["spec"].get("ingress")]
    for where, template in cm.pod_templates(d):
        if not any(mc.selects(p["spec"]["podSelector"], template["metadata"]["labels"]) for p in deny):
            labels = template["metadata"]["labels"]
            problems.append(f"{where}: no default-deny NetworkPolicy selects its labels {labels}")
    pods = _pods(d)
    for src, peer, dst, port, want in reachability(d):
        if reach.ingress_allowed(policies, cm.NAMESPACE, pods[dst], peer, port) != want:
            problems.append(f"{src} -> {dst}:{port} should be {'allowed' if want else 'denied'}")
    if not any(mc.selects(p["spec"]["podSelector"], pods["soundloop-redis"]) and "Egress" in reach.policy_types(p)
               and not p["spec"].get("egress") for p in policies):
        problems.append("Redis opens no connection: deny its egress")
    return problems


def test_network_policies_admit_exactly_what_soundloop_needs(d):
    assert network_policy_problems(d) == []


def test_network_policy_check_catches_drift(d):
    by_name = {p["metadata"]["name"]: p for p in d["policies"]}
    by_name["soundloop-ray"]["spec"]["ingress"][0]["from"][0]["namespaceSelector"] = {}  # any namespace
    d["policies"].remove(by_name["soundloop-redis"])
    cluster = d["rayservice"]["spec"]["rayClusterConfig"]
    cluster["workerGroupSpecs"].append(copy.deepcopy(cluster["workerGroupSpecs"][-1]))
    cluster["workerGroupSpecs"][-1].update(groupName="extra")
    cluster["workerGroupSpecs"][-1]["template"]["metadata"]["labels"] = {"team": "x"}
    problems = network_policy_problems(d)
    for needle in ("lookalike -> head:6379 should be denied", "cpu -> soundloop-redis:6379 should be allowed",
                   "RayService extra: no default-deny", "deny its egress"):
        assert any(needle in p for p in problems), (needle, problems)
    d = cm.manifests()
    gateway = next(g for g in d["rayservice"]["spec"]["rayClusterConfig"]["workerGroupSpecs"] if cm.offers_gateway(g))
    gateway["template"]["metadata"]["labels"]["app.kubernetes.io/component"] = "gw"
    assert any("outside -> gateway:50051 should be allowed" in p for p in network_policy_problems(d))


def test_policy_evaluator_follows_kubernetes_semantics():
    allow_web = {"spec": {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [
        {"from": [{"namespaceSelector": {"matchLabels": {"team": "a"}}, "podSelector": {"matchLabels": {"r": "x"}}}],
         "ports": [{"port": 80}]}]}}
    web, ns_a = {"app": "web"}, {"team": "a"}
    assert reach.ingress_allowed([], cm.NAMESPACE, web, reach.Peer(None, None), 1)  # not isolated
    assert reach.ingress_allowed([allow_web], cm.NAMESPACE, web, reach.Peer({"r": "x"}, ns_a), 80)
    assert not reach.ingress_allowed([allow_web], cm.NAMESPACE, web, reach.Peer({"r": "x"}, ns_a), 81)
    assert not reach.ingress_allowed([allow_web], cm.NAMESPACE, web, reach.Peer({"r": "y"}, ns_a), 80)  # AND, not OR
    assert not reach.ingress_allowed([allow_web], cm.NAMESPACE, web, reach.Peer(None, None), 80)
    assert reach.ingress_allowed([allow_web], cm.NAMESPACE, {"app": "db"}, reach.Peer(None, None), 5432)


