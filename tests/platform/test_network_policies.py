"""The NetworkPolicies allow exactly the flows drawn in docs/architecture.md, and deny the rest by default."""

from __future__ import annotations

import re
from typing import Any

import pytest

from eco2_platform.namespaces import APP_NAMESPACE, DATA_NAMESPACE
from infra.ports import API_ROUTES
from tests.support.kubernetes import objects_of_kind
from tools.plan.harness import STACKS, run_program
from tools.plan.stack_runner import REPO_ROOT

DOC = REPO_ROOT / "docs" / "architecture.md"
ANYWHERE = "anywhere"
NAMESPACE_LABEL = "kubernetes.io/metadata.name"
Flow = tuple[str, str, str]
"""(from, "namespace / pods", "port/PROTOCOL")"""


def doc_table(marker: str) -> set[Flow]:
    """Rows of the markdown table right after ``<!-- network-flows:<marker> -->``."""
    text = DOC.read_text()
    start = text.index(f"<!-- network-flows:{marker} -->")
    rows: set[Flow] = set()
    for line in text[start:].splitlines()[3:]:
        if not line.startswith("|"):
            break
        source, destination, port = (cell.strip() for cell in line.strip("|").split("|"))
        rows.add((source, destination, port))
    assert rows, f"no rows under the {marker} marker"
    return rows


def _peer(peer: dict[str, Any] | None, own_namespace: str) -> str:
    if peer is None:
        return ANYWHERE
    namespace = peer.get("namespaceSelector", {}).get("matchLabels", {}).get(NAMESPACE_LABEL, own_namespace)
    pods = peer.get("podSelector", {}).get("matchLabels", {})
    return f"{namespace} / {next(iter(pods.values()))}" if pods else namespace


def _pods(spec: dict[str, Any], namespace: str) -> str:
    labels = spec["podSelector"].get("matchLabels", {})
    return f"{namespace} / {next(iter(labels.values()))}" if labels else namespace


def rendered_flows(stack: str) -> tuple[set[Flow], set[Flow]]:
    ingress: set[Flow] = set()
    egress: set[Flow] = set()
    for policy in objects_of_kind(run_program(stack), "NetworkPolicy"):
        namespace = policy.inputs["metadata"]["namespace"]
        spec = policy.inputs["spec"]
        for rule in spec.get("ingress", []):
            for peer in rule.get("from") or [None]:
                for port in rule["ports"]:
                    ingress.add(
                        (_peer(peer, namespace), _pods(spec, namespace), f"{port['port']}/{port['protocol']}")
                    )
        for rule in spec.get("egress", []):
            for peer in rule.get("to") or [None]:
                for port in rule["ports"]:
                    egress.add(
                        (_pods(spec, namespace), _peer(peer, namespace), f"{port['port']}/{port['protocol']}")
                    )
    return ingress, egress


@pytest.mark.parametrize("stack", STACKS)
def test_policies_allow_exactly_the_documented_flows(stack):
    ingress, egress = rendered_flows(stack)
    assert ingress == doc_table("ingress")
    assert egress == doc_table("egress")


@pytest.mark.parametrize("stack", STACKS)
def test_both_namespaces_deny_by_default_and_data_only_talks_dns(stack):
    policies = objects_of_kind(run_program(stack), "NetworkPolicy")
    denies = {
        p.inputs["metadata"]["namespace"]: p.inputs["spec"]
        for p in policies
        if p.inputs["spec"]["podSelector"] == {} and "ingress" not in p.inputs["spec"]
    }
    assert set(denies) == {APP_NAMESPACE, DATA_NAMESPACE}
    assert denies[APP_NAMESPACE]["policyTypes"] == ["Ingress"]
    assert denies[DATA_NAMESPACE]["policyTypes"] == ["Ingress", "Egress"]
    for policy in policies:
        if policy.inputs["spec"]["podSelector"] != {}:
            assert "egress" not in policy.inputs["spec"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_data_namespace_admits_only_the_app_and_monitoring(stack):
    ingress, _ = rendered_flows(stack)
    sources = {source for source, destination, _ in ingress if destination.startswith(f"{DATA_NAMESPACE} /")}
    assert sources == {APP_NAMESPACE, "monitoring"}


def test_the_doc_draws_the_node_ports_of_the_route_table():
    text = DOC.read_text()
    for route in API_ROUTES:
        assert re.search(rf"\b{route.node_port} {route.service}\b", text), route.service
