"""kubeadm v1beta4 configuration for the control plane and the workers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.config import POD_CIDR, SERVICE_CIDR
from infra.render import yaml_text
from infra.render.scripts import CA_CERT_HASH_PLACEHOLDER, JOIN_TOKEN_PLACEHOLDER
from infra.roles import ROLE_LABEL, RoleSpec

KUBEADM_API = "kubeadm.k8s.io/v1beta4"
KUBELET_API = "kubelet.config.k8s.io/v1beta1"
CRI_SOCKET = "unix:///run/containerd/containerd.sock"
API_SERVER_PORT = 6443
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


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


MINTED_ON_MASTER = JoinCredentials(token=JOIN_TOKEN_PLACEHOLDER, ca_cert_hash=CA_CERT_HASH_PLACEHOLDER)
"""Placeholders the master replaces with the token it mints for each join (``join_from_master_script``)."""


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
            # Kubelets ask the cluster CA for their serving certificate (a kubelet-serving CSR, approved by
            # the platform's kubelet-csr-approver), so metrics-server and the API server verify them.
            # kubeadm stores this config in the cluster: every joining kubelet inherits it.
            "serverTLSBootstrap": True,
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
