"""Calico through the tigera operator: the cluster's CNI, and what everything scheduled waits for.

VXLAN overlay with BGP off (EC2 drops unknown pod addresses unless source/dest checks are disabled, and VXLAN
works across subnets); the IP pool is kubeadm's pod subnet, read from the same constant
(``infra.config.POD_CIDR``). The ``Installation`` waits for its ``Ready`` condition, so ``Calico.ready`` only
resolves once calico-node runs on the nodes and they turn Ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from eco2_platform.charts import TIGERA_OPERATOR, chart_values, namespace, release
from eco2_platform.namespaces import TIGERA_OPERATOR_NAMESPACE

INSTALLATION_API_VERSION = "operator.tigera.io/v1"
INSTALLATION_NAME = "default"
"""The operator reconciles only the Installation named ``default``."""
READY_TIMEOUT_SECONDS = 900
IP_POOL_BLOCK_SIZE = 26
"""/26 blocks: 64 pod addresses per node and block, Calico's default."""


def installation_spec(pod_cidr: str) -> dict[str, Any]:
    """``Installation.spec``: Calico CNI and IPAM, one VXLAN pool over ``pod_cidr``, BGP disabled."""
    return {
        "variant": "Calico",
        "cni": {"type": "Calico", "ipam": {"type": "Calico"}},
        "calicoNetwork": {
            "bgp": "Disabled",
            "ipPools": [
                {
                    "name": "default-ipv4-ippool",
                    "cidr": pod_cidr,
                    "encapsulation": "VXLAN",
                    "natOutgoing": "Enabled",
                    "nodeSelector": "all()",
                    "blockSize": IP_POOL_BLOCK_SIZE,
                }
            ],
            # kubeadm registers every node with its VPC address (kubelet --node-ip): tunnel from that one.
            "nodeAddressAutodetectionV4": {"kubernetes": "NodeInternalIP"},
        },
        # Calico's own CSI driver is for its application-layer policy; this cluster does not use it.
        "kubeletVolumePluginPath": "None",
    }


def installation_manifest(pod_cidr: str) -> dict[str, Any]:
    """The whole Installation object as the cluster receives it (tests validate it against the CRD)."""
    return {
        "apiVersion": INSTALLATION_API_VERSION,
        "kind": "Installation",
        "metadata": {"name": INSTALLATION_NAME},
        "spec": installation_spec(pod_cidr),
    }


@dataclass(frozen=True)
class CalicoArgs:
    pod_cidr: str
    provider: k8s.Provider


class Calico(pulumi.ComponentResource):
    ready: list[pulumi.Resource]
    """Put these in ``depends_on`` of anything that runs pods: they resolve once the CNI is Ready."""

    def __init__(self, name: str, args: CalicoArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eco2:platform:Calico", name, None, opts)
        operator_namespace = namespace(
            TIGERA_OPERATOR_NAMESPACE, privileged=True, parent=self, provider=args.provider
        )
        operator = release(
            "tigera-operator",
            TIGERA_OPERATOR,
            namespace=operator_namespace.metadata.name,
            values=chart_values(TIGERA_OPERATOR),
            parent=self,
            provider=args.provider,
            depends_on=[],
        )
        manifest = installation_manifest(args.pod_cidr)
        installation = k8s.apiextensions.CustomResource(
            "calico-installation",
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=INSTALLATION_NAME,
                annotations={
                    # Pulumi waits for the operator to report the whole Calico install Ready.
                    "pulumi.com/waitFor": "condition=Ready",
                    "pulumi.com/timeoutSeconds": str(READY_TIMEOUT_SECONDS),
                },
            ),
            spec=manifest["spec"],
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[operator]),
        )
        self.ready = [installation]
        self.register_outputs({})
