"""``eco2:platform:Namespaces``: the application and data namespaces, both at the ``restricted`` Pod Security
level (every pod in them runs non-root, read-only, without capabilities; see pods.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from eco2_platform.namespaces import APP_NAMESPACE, DATA_NAMESPACE
from eco2_platform.workloads.pods import PART_OF

POD_SECURITY_LEVEL = "restricted"


@dataclass(frozen=True)
class NamespacesArgs:
    provider: k8s.Provider


class Namespaces(pulumi.ComponentResource):
    app: k8s.core.v1.Namespace
    data: k8s.core.v1.Namespace

    def __init__(self, name: str, args: NamespacesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eco2:platform:Namespaces", name, None, opts)

        def namespace(resource_name: str, namespace_name: str) -> k8s.core.v1.Namespace:
            return k8s.core.v1.Namespace(
                resource_name,
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=namespace_name,
                    labels={
                        "app.kubernetes.io/part-of": PART_OF,
                        "pod-security.kubernetes.io/enforce": POD_SECURITY_LEVEL,
                        "pod-security.kubernetes.io/warn": POD_SECURITY_LEVEL,
                        "pod-security.kubernetes.io/audit": POD_SECURITY_LEVEL,
                    },
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
            )

        self.app = namespace("app-namespace", APP_NAMESPACE)
        self.data = namespace("data-namespace", DATA_NAMESPACE)
        self.register_outputs({"app": self.app.metadata.name, "data": self.data.metadata.name})
