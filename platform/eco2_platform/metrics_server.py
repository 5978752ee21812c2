"""metrics-server with verified kubelet serving certificates, and the approver that makes them possible.

kubeadm's KubeletConfiguration sets ``serverTLSBootstrap: true``: each kubelet asks the cluster CA for a
serving certificate through a ``kubernetes.io/kubelet-serving`` CSR, which nothing approves by default.
kubelet-csr-approver approves exactly those CSRs that come from a node of this cluster (name pattern from the
role table, every IP inside the VPC). metrics-server then verifies kubelets against the cluster CA; it never
runs with ``--kubelet-insecure-tls``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from eco2_platform.charts import KUBELET_CSR_APPROVER, METRICS_SERVER, chart_values, release
from eco2_platform.namespaces import KUBE_SYSTEM_NAMESPACE
from infra.roles import RoleSpec


def node_name_pattern(roles: Iterable[RoleSpec]) -> str:
    """A regex matching every node name the bootstrap can give (``master``, ``api-3``, ``redis`` ...)."""
    alternatives = [
        f"{re.escape(role.name)}-[0-9]+" if role.scalable else re.escape(role.name) for role in roles
    ]
    return f"^({'|'.join(alternatives)})$"


def csr_approver_values(roles: Iterable[RoleSpec], vpc_cidr: str) -> dict[str, Any]:
    """The approver's values file plus what this stack allows: its node names and its VPC range."""
    return chart_values(
        KUBELET_CSR_APPROVER,
        {"providerRegex": node_name_pattern(roles), "providerIpPrefixes": [vpc_cidr]},
    )


@dataclass(frozen=True)
class MetricsServerArgs:
    roles: Sequence[RoleSpec]
    vpc_cidr: str
    provider: k8s.Provider
    scheduling_ready: Sequence[pulumi.Resource]
    """The CNI: both releases run pods on the pod network."""


class MetricsServer(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    """metrics-server itself (the HPAs' source of CPU and memory)."""

    def __init__(
        self, name: str, args: MetricsServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("eco2:platform:MetricsServer", name, None, opts)
        approver = release(
            "kubelet-csr-approver",
            KUBELET_CSR_APPROVER,
            namespace=KUBE_SYSTEM_NAMESPACE,
            values=csr_approver_values(args.roles, args.vpc_cidr),
            parent=self,
            provider=args.provider,
            depends_on=args.scheduling_ready,
        )
        self.release = release(
            "metrics-server",
            METRICS_SERVER,
            namespace=KUBE_SYSTEM_NAMESPACE,
            values=chart_values(METRICS_SERVER),
            parent=self,
            provider=args.provider,
            # Its readiness needs a kubelet it can verify: serving certificates approved first.
            depends_on=[*args.scheduling_ready, approver],
        )
        self.register_outputs({})
