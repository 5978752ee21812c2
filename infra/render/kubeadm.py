"""kubeadm v1beta4 configuration for the control plane and the workers, and the join-command parser."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from infra.config import POD_CIDR, SERVICE_CIDR
from infra.render import yaml_text
from infra.roles import ROLE_LABEL, RoleSpec

KUBEADM_API = "kubeadm.k8s.io/v1beta4"
KUBELET_API = "kubelet.config.k8s.io/v1beta1"
CRI_SOCKET = "unix:///run/containerd/containerd.sock"
API_SERVER_PORT = 6443
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}

_TOKEN_RE = re.compile(r"--token\s+([a-z0-9]{6}\.[a-z0-9]{16})\b")
_CA_HASH_RE = re.compile(r"--discovery-token-ca-cert-hash\s+(sha256:[a-f0-9]{64})\b")


@dataclass(frozen=True)
class NodeIdentity:
    """What kubeadm needs to know about one EC2 node (all plain values, resolved from outputs)."""

    name: str
    role: RoleSpec
    instance_id: str
    availability_zone: str
    private_ip: str

    @property
    def provider_id(self) -> str:
        """The ``spec.providerID`` AWS integrations (EBS CSI, load balancer controller) look nodes up by."""
        return f"aws:///{self.availability_zone}/{self.instance_id}"


@dataclass(frozen=True)
class ControlPlaneEndpoint:
    """Where the API server is reached: privately by the nodes, publicly by admins and Pulumi."""

    private_ip: str
    public_ip: str
    dns_name: str

    @property
    def private_address(self) -> str:
        return f"{self.private_ip}:{API_SERVER_PORT}"

    @property
    def public_url(self) -> str:
        """The kubeconfig server: the Elastic IP, which resolves without waiting for DNS."""
        return f"https://{self.public_ip}:{API_SERVER_PORT}"


@dataclass(frozen=True)
class JoinCredentials:
    token: str
    ca_cert_hash: str

    def __repr__(self) -> str:  # keep the token out of tracebacks and logs
        return "JoinCredentials(token=<redacted>, ca_cert_hash=...)"


def parse_join_command(output: str) -> JoinCredentials:
    """Token and CA hash from ``kubeadm token create --print-join-command``; errors never echo the token."""
    token = _TOKEN_RE.search(output)
    ca_hash = _CA_HASH_RE.search(output)
    if token is None or ca_hash is None:
        missing = " and ".join(
            name
            for name, match in (("--token", token), ("--discovery-token-ca-cert-hash", ca_hash))
            if not match
        )
        raise ValueError(f"kubeadm join command output lacks a valid {missing}")
    return JoinCredentials(token=token.group(1), ca_cert_hash=ca_hash.group(1))


def _node_registration(node: NodeIdentity, taints: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "name": node.name,
        "criSocket": CRI_SOCKET,
        "kubeletExtraArgs": [
            {"name": "provider-id", "value": node.provider_id},
            {"name": "node-ip", "value": node.private_ip},
            {"name": "node-labels", "value": f"{ROLE_LABEL}={node.role.name}"},
        ],
        "taints": taints,
    }


def init_config(
    *, cluster_name: str, kubernetes_version: str, node: NodeIdentity, endpoint: ControlPlaneEndpoint
) -> str:
    """InitConfiguration + ClusterConfiguration + KubeletConfiguration for ``kubeadm init --config``."""
    documents: list[dict[str, Any]] = [
        {
            "apiVersion": KUBEADM_API,
            "kind": "InitConfiguration",
            "localAPIEndpoint": {"advertiseAddress": node.private_ip, "bindPort": API_SERVER_PORT},
            "nodeRegistration": _node_registration(node, [CONTROL_PLANE_TAINT]),
        },
        {
            "apiVersion": KUBEADM_API,
            "kind": "ClusterConfiguration",
            "clusterName": cluster_name,
            "kubernetesVersion": f"v{kubernetes_version}",
            "controlPlaneEndpoint": endpoint.private_address,
            "networking": {
                "podSubnet": str(POD_CIDR),
                "serviceSubnet": str(SERVICE_CIDR),
                "dnsDomain": "cluster.local",
            },
            "apiServer": {
                "certSANs": [endpoint.dns_name, endpoint.public_ip, endpoint.private_ip, node.name],
            },
        },
        {
            "apiVersion": KUBELET_API,
            "kind": "KubeletConfiguration",
            "cgroupDriver": "systemd",
        },
    ]
    return yaml_text.dump_all(documents)


def join_config(*, node: NodeIdentity, endpoint: ControlPlaneEndpoint, credentials: JoinCredentials) -> str:
    """JoinConfiguration for ``kubeadm join --config`` on one worker."""
    document = {
        "apiVersion": KUBEADM_API,
        "kind": "JoinConfiguration",
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": endpoint.private_address,
                "token": credentials.token,
                "caCertHashes": [credentials.ca_cert_hash],
            }
        },
        "nodeRegistration": _node_registration(node, node.role.taints),
    }
    return yaml_text.dump(document)
