"""Kubernetes objects the program registers, as tests inspect them: pod specs, containers, schema checks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from tools.plan.harness import CapturedResource

REPO_ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = REPO_ROOT / "platform" / "crds"
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


@cache
def _crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) → openAPIV3Schema of every CRD kept in platform/crds."""
    schemas = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if not document or document.get("kind") != "CustomResourceDefinition":
                continue
            spec = document["spec"]
            for version in spec["versions"]:
                key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                schemas[key] = version["schema"]["openAPIV3Schema"]
    return schemas


def validate(manifest: dict[str, Any], kubernetes_minor: str) -> None:
    """Raise if ``manifest`` does not match its schema: the Kubernetes OpenAPI for built-in kinds, the CRD's
    openAPIV3Schema for custom resources."""
    key = (manifest["apiVersion"], manifest["kind"])
    schema = _crd_schemas().get(key)
    if schema is not None:
        jsonschema.validate(manifest, schema)
        return
    kubernetes_validate.validate(manifest, kubernetes_minor, strict=True)
