"""Every Kubernetes object of a run against its schema, every Helm release against the pinning rules.

An object whose apiVersion/kind is built into Kubernetes (the pinned minor's OpenAPI schemas) is checked
there; anything else must be a custom resource with its CRD in platform/crds/. Besides the schemas: the
manifest must match its Pulumi type, use the cluster's provider (never the ambient kubeconfig), and no two
resources may declare the same object.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tools.plan import crds, releases, schemas
from tools.plan.findings import Finding
from tools.plan.harness import CapturedResource
from tools.plan.objects import RELEASE_TYPE, KubeObject, is_kubernetes_object, kube_object


@dataclass(frozen=True)
class CheckedObject:
    object: KubeObject
    schema: str
    """``kubernetes 1.34``, or the CRD file that validated it (``crd <file in platform/crds>``)."""


@dataclass(frozen=True)
class KubernetesReport:
    objects: tuple[CheckedObject, ...]
    releases: tuple[releases.ReleaseSummary, ...]
    findings: tuple[Finding, ...]


def check_object(obj: KubeObject, minor: str, crd_dir: Path = crds.CRD_DIR) -> tuple[str, list[Finding]]:
    """(which schema applied, findings) for one object."""
    manifest = obj.manifest
    _, token_version, token_kind = obj.resource.type_.split(":", 2)
    token_version = token_version.removeprefix("core/")
    findings = []
    if manifest.get("apiVersion") != token_version or manifest.get("kind") != token_kind:
        findings.append(
            Finding(
                "manifest",
                obj.label,
                "apiVersion",
                f"manifest says {manifest.get('apiVersion')}/{manifest.get('kind')},"
                f" the resource is {obj.resource.type_}",
            )
        )
    if not obj.resource.provider:
        findings.append(
            Finding(
                "manifest",
                obj.label,
                "",
                "uses the default Kubernetes provider (ambient kubeconfig), not the cluster's",
            )
        )
    if schemas.is_built_in(minor, obj.api_version, obj.kind):
        return f"kubernetes {minor}", findings + schemas.validate(manifest, minor, obj.label)
    group, _, version = obj.api_version.rpartition("/")
    crd = crds.catalogue(crd_dir).get((group, obj.kind))
    applied = f"crd {crd.source}" if crd else "none"
    return applied, findings + crds.validate(manifest, group, version, obj.kind, obj.label, crd_dir)


def check(
    resources: Sequence[CapturedResource], minor: str, crd_dir: Path = crds.CRD_DIR
) -> KubernetesReport:
    cluster_scoped = crds.cluster_scoped_kinds(crds.catalogue(crd_dir).values())
    checked: list[CheckedObject] = []
    findings: list[Finding] = []
    owners: dict[str, KubeObject] = {}
    for resource in resources:
        if not is_kubernetes_object(resource.type_):
            continue
        obj = kube_object(resource, cluster_scoped)
        schema, object_findings = check_object(obj, minor, crd_dir)
        findings += object_findings
        checked.append(CheckedObject(obj, schema))
        previous = owners.setdefault(obj.file_name, obj)
        if previous is not obj:
            findings.append(
                Finding(
                    "manifest",
                    obj.label,
                    "metadata.name",
                    f"declared twice: {previous.resource.urn} and {resource.urn}",
                )
            )
    release_resources = [resource for resource in resources if resource.type_ == RELEASE_TYPE]
    for resource in release_resources:
        findings += releases.check(resource)
    return KubernetesReport(
        tuple(checked), tuple(releases.summary(resource) for resource in release_resources), tuple(findings)
    )
