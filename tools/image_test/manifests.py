"""Reading the plan's manifests and choosing the ones image-test plays."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

Manifest = dict[str, Any]

# What `podman kube play` (4.3) runs. A Job is not among them: substitute.py turns it into a Pod.
PLAYED_KINDS = ("ConfigMap", "Secret", "Deployment", "Job")


class ManifestError(ValueError):
    """The plan output is missing or does not hold the app workloads image-test needs."""


def load_plan(folder: Path) -> list[Manifest]:
    """Every manifest of a `make plan` output folder (``<Kind>.<namespace>.<name>.json``)."""
    files = sorted(folder.glob("*.json"))
    if not files:
        raise ManifestError(f"no manifests in {folder}: run `make plan STACK=dev` first (or set PLAN_OUT)")
    return [json.loads(path.read_text(encoding="utf-8")) for path in files]


def app_workloads(manifests: Sequence[Manifest], namespace: str) -> list[Manifest]:
    """The app namespace's ConfigMaps, Secrets, Deployments and Jobs, in that order; nothing else runs."""
    chosen = [
        manifest
        for manifest in manifests
        if manifest.get("kind") in PLAYED_KINDS and manifest.get("metadata", {}).get("namespace") == namespace
    ]
    if not any(manifest["kind"] == "Deployment" for manifest in chosen):
        raise ManifestError(f"the plan holds no Deployment in namespace {namespace!r}")
    return sorted(chosen, key=lambda manifest: PLAYED_KINDS.index(manifest["kind"]))


def name_of(manifest: Manifest) -> str:
    return str(manifest["metadata"]["name"])


def pod_spec(manifest: Manifest) -> dict[str, Any]:
    """The pod spec of a Pod, or of a Deployment's or Job's template."""
    if manifest["kind"] == "Pod":
        spec: dict[str, Any] = manifest["spec"]
        return spec
    template: dict[str, Any] = manifest["spec"]["template"]["spec"]
    return template


def containers(manifest: Manifest) -> Iterator[dict[str, Any]]:
    if manifest.get("kind") in ("Deployment", "Job", "Pod"):
        spec = pod_spec(manifest)
        yield from spec.get("initContainers", [])
        yield from spec.get("containers", [])


def is_api(manifest: Manifest) -> bool:
    """An API Deployment: its containers declare an HTTP readiness probe on a container port."""
    return manifest["kind"] == "Deployment" and any(
        "httpGet" in container.get("readinessProbe", {}) for container in containers(manifest)
    )


def effective_env(container: dict[str, Any], manifests: Sequence[Manifest]) -> dict[str, str]:
    """What a container gets: its envFrom sources, then env values and their ConfigMap/Secret key refs."""
    import base64

    sources: dict[tuple[str, str], dict[str, str]] = {}
    for manifest in manifests:
        if manifest["kind"] == "ConfigMap":
            sources[("ConfigMap", name_of(manifest))] = dict(manifest.get("data", {}))
        elif manifest["kind"] == "Secret":
            decoded = {
                key: base64.b64decode(value).decode() for key, value in manifest.get("data", {}).items()
            }
            sources[("Secret", name_of(manifest))] = {**decoded, **manifest.get("stringData", {})}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        for kind, reference in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            if reference in source:
                values = sources.get((kind, source[reference]["name"]), {})
                env.update({source.get("prefix", "") + key: value for key, value in values.items()})
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = entry["value"]
            continue
        for kind, reference in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
            selector = entry.get("valueFrom", {}).get(reference)
            if selector and selector["key"] in sources.get((kind, selector["name"]), {}):
                env[entry["name"]] = sources[(kind, selector["name"])][selector["key"]]
    return env
