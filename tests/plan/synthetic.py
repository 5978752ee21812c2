"""Small hand-made program runs for the plan's tests: captured resources as the harness would record them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tools.plan.harness import CapturedResource, ProgramRun

STACK = "test"
CLUSTER_PROVIDER = f"urn:pulumi:{STACK}::eco2::pulumi:providers:kubernetes::cluster"


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::eco2::{type_}::{name}"


def captured(
    type_: str,
    name: str,
    inputs: Mapping[str, Any] | None = None,
    *,
    custom: bool = True,
    parent: str | None = None,
    provider: str | None = None,
    dependencies: Sequence[str] = (),
    property_dependencies: Mapping[str, Sequence[str]] | None = None,
) -> CapturedResource:
    return CapturedResource(
        type_=type_,
        name=name,
        inputs=dict(inputs or {}),
        custom=custom,
        urn=urn(type_, name),
        parent=parent,
        provider=provider,
        dependencies=tuple(dependencies),
        property_dependencies={key: tuple(urns) for key, urns in (property_dependencies or {}).items()},
    )


def kubernetes(type_: str, manifest: Mapping[str, Any], name: str | None = None) -> CapturedResource:
    """A Kubernetes resource on the cluster provider; its inputs are the manifest."""
    resource_name = name or str(manifest.get("metadata", {}).get("name", "subject"))
    return captured(type_, resource_name, manifest, provider=CLUSTER_PROVIDER)


def deployment(**spec_changes: Any) -> dict[str, Any]:
    """A valid ``apps/v1`` Deployment ``eco2/auth``; ``spec_changes`` replace keys of its spec."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "auth", "namespace": "eco2", "labels": {"app": "auth"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "auth"}},
            "template": {
                "metadata": {"labels": {"app": "auth"}},
                "spec": {"containers": [{"name": "auth", "image": "ghcr.io/eco2-team/eco2-api:0.1.0"}]},
            },
            **spec_changes,
        },
    }


def installation(**spec: Any) -> dict[str, Any]:
    """A Calico ``Installation`` (cluster-scoped) with the given spec."""
    return {
        "apiVersion": "operator.tigera.io/v1",
        "kind": "Installation",
        "metadata": {"name": "default"},
        "spec": spec,
    }


def run_of(*resources: CapturedResource) -> ProgramRun:
    return ProgramRun(resources=resources, outputs={})
