"""NetworkPolicy semantics, offline: which peer may reach which pod on which port.

The API server stores NetworkPolicies and the network plugin enforces them; with neither here,
the tests evaluate the rules as the Kubernetes documentation defines them.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from manifest_checks import selects


@dataclasses.dataclass(frozen=True)
class Peer:
    """One end of a connection: a pod (labels) in a namespace (labels), or outside the cluster (None)."""
    labels: Mapping[str, str] | None
    namespace: Mapping[str, str] | None


def policy_types(policy: dict) -> list[str]:
    """The API server's default: Ingress always, Egress when egress rules are given."""
    spec = policy.get("spec") or {}
    return spec.get("policyTypes") or ["Ingress"] + (["Egress"] if "egress" in spec else [])


def _peer_matches(peers, source: Peer, namespace: Mapping[str, str]) -> bool:
    if not peers:  # no `from`: every source
        return True
    for peer in peers:
        if "ipBlock" in peer:
            continue  # the policies here select pods and namespaces only
        pod_ok = "podSelector" not in peer or selects(peer["podSelector"], source.labels)
        if "namespaceSelector" in peer:
            ns_ok = selects(peer["namespaceSelector"], source.namespace)
        else:  # a podSelector alone means pods of the policy's own namespace
            ns_ok = source.namespace is not None and dict(source.namespace) == dict(namespace)
        if pod_ok and ns_ok:
            return True
    return False


def _port_matches(ports, port: int, protocol: str) -> bool:
    def matches(rule: dict) -> bool:
        if rule.get("protocol", "TCP") != protocol:
            return False
        first = rule.get("port", port)
        return first == port or (isinstance(first, int) and first <= port <= rule.get("endPort", first))
    return not ports or any(matches(rule) for rule in ports)


def ingress_allowed(policies: list[dict], namespace: Mapping[str, str], pod: Mapping[str, str],
                    source: Peer, port: int, protocol: str = "TCP") -> bool:
    """Whether NetworkPolicies `policies` (all in `namespace`) admit `source` to `pod` on `port`.

    A pod that no Ingress policy selects takes everything; one that some select takes what any of
    their rules admits (rules add up, nothing denies)."""
    selecting = [p for p in policies if "Ingress" in policy_types(p) and selects(p["spec"]["podSelector"], pod)]
    return not selecting or any(
        _peer_matches(rule.get("from"), source, namespace) and _port_matches(rule.get("ports"), port, protocol)
        for p in selecting for rule in p["spec"].get("ingress") or [])
