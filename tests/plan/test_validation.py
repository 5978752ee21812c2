"""Kubernetes objects against the pinned schemas and the repo's CRDs; Helm release pins."""

from __future__ import annotations

from typing import Any

import pytest

from tests.plan.synthetic import captured, deployment, installation, kubernetes
from tools.plan import crds, schemas, validation
from tools.plan.build import kubernetes_minor
from tools.plan.harness import STACKS, CapturedResource, run_stack
from tools.plan.objects import is_kubernetes_object

MINOR = "1.34"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
INSTALLATION = "kubernetes:operator.tigera.io/v1:Installation"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
RELEASE = "kubernetes:helm.sh/v3:Release"


def findings_of(*resources: CapturedResource) -> list[str]:
    return [str(finding) for finding in validation.check(resources, MINOR).findings]


@pytest.mark.parametrize("stack", STACKS)
def test_every_captured_object_of_the_program_is_valid(stack: str) -> None:
    run = run_stack(stack)
    report = validation.check(run.resources, kubernetes_minor(stack, {}))
    assert report.objects, "the program declares Kubernetes objects"
    assert [str(finding) for finding in report.findings] == []
    captured_objects = [r for r in run.resources if is_kubernetes_object(r.type_)]
    assert len(report.objects) == len(captured_objects)


def test_a_valid_deployment_passes() -> None:
    assert findings_of(kubernetes(DEPLOYMENT, deployment())) == []


def test_a_wrong_type_names_the_object_and_the_path() -> None:
    found = findings_of(kubernetes(DEPLOYMENT, deployment(replicas="two")))
    assert found == [
        "[schema] Deployment eco2/auth at spec.replicas: 'two' is not of type 'integer', 'null'"
        " (Kubernetes 1.34)"
    ]


def test_an_unknown_field_is_a_violation() -> None:
    manifest = deployment()
    manifest["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"
    (found,) = findings_of(kubernetes(DEPLOYMENT, manifest))
    assert found.startswith("[schema] Deployment eco2/auth at spec.template.spec.containers[0]:")
    assert "'imagePullPolice' was unexpected" in found


def test_a_missing_required_field_is_a_violation() -> None:
    manifest = deployment()
    del manifest["spec"]["selector"]
    (found,) = findings_of(kubernetes(DEPLOYMENT, manifest))
    assert found.startswith("[schema] Deployment eco2/auth at spec: 'selector' is a required property")


def test_a_valid_installation_passes() -> None:
    spec = {
        "variant": "Calico",
        "calicoNetwork": {
            "bgp": "Disabled",
            "ipPools": [{"name": "default", "cidr": "192.168.0.0/16", "encapsulation": "VXLAN"}],
        },
    }
    assert findings_of(kubernetes(INSTALLATION, installation(**spec))) == []


def test_a_custom_resource_with_a_wrong_value_fails_against_its_crd() -> None:
    broken = installation(calicoNetwork={"bgp": False})
    assert findings_of(kubernetes(INSTALLATION, broken)) == [
        "[crd] Installation default at spec.calicoNetwork.bgp: False is not one of ['Enabled', 'Disabled']"
        " (operator.tigera.io_installations.yaml)",
        "[crd] Installation default at spec.calicoNetwork.bgp: False is not of type 'string'"
        " (operator.tigera.io_installations.yaml)",
    ]


def test_a_custom_resource_with_an_unknown_field_fails() -> None:
    (found,) = findings_of(kubernetes(INSTALLATION, installation(calicoNetwrk={"bgp": "Disabled"})))
    assert found.startswith("[crd] Installation default at spec: Additional properties are not allowed")
    assert "'calicoNetwrk' was unexpected" in found


def test_a_cluster_scoped_custom_resource_takes_no_namespace() -> None:
    manifest = installation(variant="Calico")
    manifest["metadata"]["namespace"] = "calico-system"
    (found,) = findings_of(kubernetes(INSTALLATION, manifest))
    assert found == "[crd] Installation default at metadata.namespace: Installation is cluster-scoped"


def test_a_service_monitor_is_checked_against_its_crd() -> None:
    monitor: dict[str, Any] = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "auth", "namespace": "eco2"},
        "spec": {
            "selector": {"matchLabels": {"app": "auth"}},
            "endpoints": [{"port": "http", "path": "/metrics"}],
        },
    }
    assert findings_of(kubernetes(SERVICE_MONITOR, monitor)) == []
    monitor["spec"]["endpoints"] = {"port": "http"}
    (found,) = findings_of(kubernetes(SERVICE_MONITOR, monitor))
    assert found.startswith(
        "[crd] ServiceMonitor eco2/auth at spec.endpoints: {'port': 'http'} is not of type"
    )


def test_a_custom_resource_without_a_crd_in_the_repo_is_a_violation() -> None:
    certificate = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "api", "namespace": "eco2"},
        "spec": {},
    }
    (found,) = findings_of(kubernetes("kubernetes:cert-manager.io/v1:Certificate", certificate))
    assert found.startswith("[crd] Certificate eco2/api: no CustomResourceDefinition for Certificate")


def test_an_unserved_crd_version_is_a_violation() -> None:
    manifest = {**installation(variant="Calico"), "apiVersion": "operator.tigera.io/v2"}
    (found,) = findings_of(kubernetes("kubernetes:operator.tigera.io/v2:Installation", manifest))
    assert found.startswith("[crd] Installation default at apiVersion: operator.tigera.io/v2 is not served")


def test_an_object_on_the_default_provider_is_a_violation() -> None:
    resource = captured(DEPLOYMENT, "auth", deployment())
    (found,) = findings_of(resource)
    assert found == (
        "[manifest] Deployment eco2/auth: uses the default Kubernetes provider (ambient kubeconfig),"
        " not the cluster's"
    )


def test_the_same_object_declared_twice_is_a_violation() -> None:
    first = kubernetes(DEPLOYMENT, deployment(), name="auth")
    second = kubernetes(DEPLOYMENT, deployment(), name="auth-again")
    (found,) = findings_of(first, second)
    assert found.startswith("[manifest] Deployment eco2/auth at metadata.name: declared twice")


def test_strict_crd_schemas_keep_preserved_and_int_or_string_fields() -> None:
    schema = crds.strict_schema(
        {
            "type": "object",
            "properties": {
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {}},
                "port": {"x-kubernetes-int-or-string": True},
                "maybe": {"type": "string", "nullable": True},
            },
        }
    )
    assert schema["additionalProperties"] is False
    assert "additionalProperties" not in schema["properties"]["free"]
    assert schema["properties"]["port"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert schema["properties"]["maybe"] == {"type": ["string", "null"]}


def test_an_unsupported_kubernetes_version_is_refused() -> None:
    with pytest.raises(schemas.UnsupportedVersion, match=r"not 1\.19"):
        schemas.minor_version("1.19.3")
    assert schemas.minor_version("v1.34.2") == "1.34"


GOOD_RELEASE = {
    "chart": "tigera-operator",
    "version": "v3.31.2",
    "repositoryOpts": {"repo": "https://docs.tigera.io/calico/charts"},
    "namespace": "tigera-operator",
    "values": {},
}


@pytest.mark.parametrize(
    ("changes", "reported"),
    [
        pytest.param({}, [], id="pinned"),
        pytest.param(
            {"version": "^3.31.0"},
            ["[release] Release tigera-operator/calico at version: chart version '^3.31.0' is not one"],
            id="ranged",
        ),
        pytest.param(
            {"version": None},
            ["[release] Release tigera-operator/calico at version: chart version none is not one"],
            id="unpinned",
        ),
        pytest.param(
            {"repositoryOpts": None},
            ["[release] Release tigera-operator/calico at repositoryOpts.repo: repository none is not"],
            id="no-repository",
        ),
        pytest.param({"chart": "oci://ghcr.io/eco2/charts/x", "repositoryOpts": None}, [], id="oci"),
    ],
)
def test_helm_releases_are_pinned(changes: dict[str, object], reported: list[str]) -> None:
    inputs = {key: value for key, value in {**GOOD_RELEASE, **changes}.items() if value is not None}
    found = findings_of(captured(RELEASE, "calico", inputs))
    assert len(found) == len(reported)
    assert all(text.startswith(prefix) for text, prefix in zip(found, reported, strict=True)), found


def test_go_patterns_with_inline_flags_are_checked() -> None:
    assert crds.python_pattern("^(?i)(abort|warn)?$") == "(?i)^(abort|warn)?$"
    assert crds.python_pattern("^[a-z]+$") == "^[a-z]+$"
    rule: dict[str, Any] = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "eco2", "namespace": "monitoring"},
        "spec": {"groups": [{"name": "api", "partial_response_strategy": "WARN", "rules": []}]},
    }
    resource = kubernetes("kubernetes:monitoring.coreos.com/v1:PrometheusRule", rule)
    assert findings_of(resource) == []
    rule["spec"]["groups"][0]["partial_response_strategy"] = "sometimes"
    (found,) = findings_of(resource)
    assert found.startswith(
        "[crd] PrometheusRule monitoring/eco2 at spec.groups[0].partial_response_strategy:"
    )
