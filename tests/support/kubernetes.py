"""Kubernetes objects the program registers, as tests inspect them: kinds, pod specs, containers, env."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tools.plan.harness import CapturedResource
from tools.plan.objects import is_kubernetes_object

POD_SPEC_KINDS = {"Deployment", "StatefulSet", "Job", "DaemonSet"}


def kubernetes_objects(resources: Iterable[CapturedResource]) -> list[CapturedResource]:
    """Every Kubernetes object (not the provider, not a Helm release)."""
    return [r for r in resources if r.custom and is_kubernetes_object(r.type_)]


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
