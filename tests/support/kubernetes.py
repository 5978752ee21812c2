"""Kubernetes objects the program registers, as tests inspect them: pod specs, containers, schema checks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tools.plan import crds, schemas
from tools.plan.harness import CapturedResource

K8S_PREFIX = "kubernetes:"
POD_SPEC_KINDS = {"Deployment", "StatefulSet", "Job"}


def kubernetes_objects(resources: Iterable[CapturedResource]) -> list[CapturedResource]:
    """Every Kubernetes object: not the provider, nor a Helm release (it has no manifest of its own)."""
    return [r for r in resources if r.custom and r.type_.startswith(K8S_PREFIX) and "kind" in r.inputs]


def kind(resource: CapturedResource) -> str:
    return str(resource.inputs["kind"])


def objects_of_kind(resources: Iterable[CapturedResource], kind_: str) -> list[CapturedResource]:
    return [r for r in kubernetes_objects(resources) if kind(r) == kind_]


def named(resources: Iterable[CapturedResource], kind_: str, name: str) -> CapturedResource:
    (match,) = [r for r in objects_of_kind(resources, kind_) if r.inputs["metadata"]["name"] == name]
    return match


def pod_spec(resource: CapturedResource) -> dict[str, Any]:
    spec: dict[str, Any] = resource.inputs["spec"]["template"]["spec"]
    return spec


def workloads(resources: Iterable[CapturedResource]) -> list[CapturedResource]:
    return [r for r in kubernetes_objects(resources) if kind(r) in POD_SPEC_KINDS]


def containers(resource: CapturedResource) -> Iterator[dict[str, Any]]:
    spec = pod_spec(resource)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env", [])}


def validate(manifest: dict[str, Any], kubernetes_minor: str) -> None:
    """Raise ``jsonschema.ValidationError`` if ``manifest`` does not match its schema, as ``make plan`` checks
    it: the strict Kubernetes OpenAPI for built-in kinds, the closed CRD schema for custom resources."""
    api_version, kind_ = str(manifest["apiVersion"]), str(manifest["kind"])
    if schemas.is_built_in(kubernetes_minor, api_version, kind_):
        schemas.validator(kubernetes_minor, api_version, kind_).validate(manifest)
    else:
        crds.validator_for(api_version, kind_).validate(manifest)
