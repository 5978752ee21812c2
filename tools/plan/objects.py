"""The Kubernetes objects of a program run: which captured resources are objects, how they are named on disk.

Captured inputs of ``pulumi_kubernetes`` typed resources (``kubernetes:apps/v1:Deployment``) and of custom
resources (``kubernetes:operator.tigera.io/v1:Installation``) are already the camelCase manifest, secrets
unwrapped and integral floats turned into ints by the harness. Helm releases, chart/YAML wrappers, lists and
patches are not objects of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tools.plan.harness import CapturedResource

RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
NOT_OBJECTS = frozenset(
    {
        RELEASE_TYPE,
        "kubernetes:helm.sh/v4:Chart",
        "kubernetes:yaml:ConfigFile",
        "kubernetes:yaml:ConfigGroup",
        "kubernetes:yaml/v2:ConfigFile",
        "kubernetes:yaml/v2:ConfigGroup",
        "kubernetes:kustomize:Directory",
        "kubernetes:kustomize/v2:Directory",
    }
)
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "APIService",
        "CertificateSigningRequest",
        "ClusterRole",
        "ClusterRoleBinding",
        "CSIDriver",
        "CSINode",
        "CustomResourceDefinition",
        "FlowSchema",
        "IngressClass",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "RuntimeClass",
        "StorageClass",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
    }
)
"""Built-in kinds without a namespace (custom resources take their scope from their CRD)."""
CLUSTER = "_cluster"
"""The namespace part of a cluster-scoped object's file name (``_`` cannot start a namespace)."""
DEFAULT_NAMESPACE = "default"
"""Where the Kubernetes provider puts a namespaced object that names none (the provider sets no namespace)."""
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def is_kubernetes_object(type_: str) -> bool:
    """A typed object or custom resource: ``kubernetes:<group>/<version>:<Kind>``, not a list or a patch."""
    if not type_.startswith("kubernetes:") or type_ in NOT_OBJECTS:
        return False
    kind = type_.rsplit(":", 1)[-1]
    return not (kind.endswith("List") or kind.endswith("Patch"))


@dataclass(frozen=True)
class KubeObject:
    resource: CapturedResource
    manifest: dict[str, Any]
    api_version: str
    kind: str
    namespace: str
    """``_cluster`` for cluster-scoped objects."""
    name: str
    autonamed: bool
    """No ``metadata.name``: the provider adds a random suffix to the Pulumi name at ``pulumi up``."""

    @property
    def group(self) -> str:
        return self.api_version.split("/", 1)[0] if "/" in self.api_version else ""

    @property
    def label(self) -> str:
        """``Deployment eco2/auth``, ``Namespace eco2``."""
        where = self.name if self.namespace == CLUSTER else f"{self.namespace}/{self.name}"
        return f"{self.kind} {where}"

    @property
    def file_name(self) -> str:
        """``<Kind>.<namespace>.<name>.json``: ``Namespace._cluster.eco2.json``."""
        return ".".join(_UNSAFE.sub("_", part) for part in (self.kind, self.namespace, self.name)) + ".json"


def kube_object(resource: CapturedResource, cluster_scoped_kinds: frozenset[str]) -> KubeObject:
    """The object a captured resource declares; ``cluster_scoped_kinds`` adds the CRDs' cluster-wide kinds."""
    manifest = resource.inputs
    _, api_version, kind = resource.type_.split(":", 2)
    api_version = api_version.removeprefix("core/")
    metadata = manifest.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    name = metadata.get("name")
    namespace = metadata.get("namespace")
    if kind in CLUSTER_SCOPED_KINDS or kind in cluster_scoped_kinds:
        namespace = CLUSTER
    return KubeObject(
        resource=resource,
        manifest=manifest,
        api_version=str(manifest.get("apiVersion") or api_version),
        kind=str(manifest.get("kind") or kind),
        namespace=str(namespace or DEFAULT_NAMESPACE),
        name=str(name or resource.name),
        autonamed=not name,
    )
