"""Security groups for the nodes, the control plane and the ALB, with every rule declared in one table.

Only the ALB faces the internet (80/443). SSH and the Kubernetes API accept the admin CIDRs only (and SSH the
master too, which runs each worker's join); cluster traffic (kubelet, etcd, Calico VXLAN and Typha) flows
between the cluster's own groups; NodePorts (API services, Grafana) accept the ALB only. Rules are separate
``aws.vpc.SecurityGroup{Ingress,Egress}Rule`` resources so each is tagged, reviewable and replaced on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import pulumi
import pulumi_aws as aws

from infra.config import StackConfig
from infra.ports import PUBLIC_ROUTES
from infra.tags import common_tags

API_SERVER_PORT = 6443
ANYWHERE = "0.0.0.0/0"


class Group(StrEnum):
    NODES = "nodes"
    """Every cluster node."""
    CONTROL_PLANE = "control-plane"
    """The master only (in addition to NODES)."""
    ALB = "alb"


@dataclass(frozen=True)
class Rule:
    """One security-group rule: which group it belongs to, what it admits and from/to where."""

    name: str
    group: Group
    direction: Literal["ingress", "egress"]
    protocol: Literal["tcp", "udp", "-1"]
    from_port: int | None
    to_port: int | None
    description: str
    peer_group: Group | None = None
    cidr: str | None = None

    def __post_init__(self) -> None:
        if (self.peer_group is None) == (self.cidr is None):
            raise ValueError(f"rule {self.name}: exactly one of peer_group / cidr")


def _cidr_slug(cidr: str) -> str:
    return cidr.replace(".", "-").replace("/", "-")


def security_rules(admin_cidrs: tuple[str, ...]) -> list[Rule]:
    """Every rule of the three groups; the single source the component creates and the tests audit."""
    nodes, control_plane, alb = Group.NODES, Group.CONTROL_PLANE, Group.ALB
    rules: list[Rule] = []
    for cidr in admin_cidrs:
        slug = _cidr_slug(cidr)
        rules += [
            Rule(f"ssh-admin-{slug}", nodes, "ingress", "tcp", 22, 22, "SSH from admins", cidr=cidr),
            Rule(
                f"apiserver-admin-{slug}",
                control_plane,
                "ingress",
                "tcp",
                API_SERVER_PORT,
                API_SERVER_PORT,
                "Kubernetes API from admins and Pulumi",
                cidr=cidr,
            ),
        ]
    rules += [
        Rule(
            "apiserver-nodes",
            control_plane,
            "ingress",
            "tcp",
            API_SERVER_PORT,
            API_SERVER_PORT,
            "Kubernetes API from kubelets and pods",
            peer_group=nodes,
        ),
        Rule(
            "etcd", control_plane, "ingress", "tcp", 2379, 2380, "etcd client/peer", peer_group=control_plane
        ),
        Rule("kubelet", nodes, "ingress", "tcp", 10250, 10250, "kubelet API", peer_group=nodes),
        Rule(
            "ssh-control-plane",
            nodes,
            "ingress",
            "tcp",
            22,
            22,
            "SSH from the master (kubeadm join)",
            peer_group=control_plane,
        ),
        Rule("calico-vxlan", nodes, "ingress", "udp", 4789, 4789, "Calico VXLAN overlay", peer_group=nodes),
        Rule("calico-typha", nodes, "ingress", "tcp", 5473, 5473, "Calico Typha", peer_group=nodes),
        Rule(
            "node-exporter", nodes, "ingress", "tcp", 9100, 9100, "Prometheus node-exporter", peer_group=nodes
        ),
        Rule("nodes-all", nodes, "egress", "-1", None, None, "Packages, GHCR, AWS APIs", cidr=ANYWHERE),
        Rule("http", alb, "ingress", "tcp", 80, 80, "HTTP (redirected to HTTPS)", cidr=ANYWHERE),
        Rule("https", alb, "ingress", "tcp", 443, 443, "HTTPS", cidr=ANYWHERE),
    ]
    for route in PUBLIC_ROUTES:
        port = route.node_port
        rules += [
            Rule(
                f"nodeport-{route.service}",
                nodes,
                "ingress",
                "tcp",
                port,
                port,
                route.path_prefix,
                peer_group=alb,
            ),
            Rule(
                f"alb-to-{route.service}",
                alb,
                "egress",
                "tcp",
                port,
                port,
                route.path_prefix,
                peer_group=nodes,
            ),
        ]
    return rules


@dataclass(frozen=True)
class SecurityArgs:
    config: StackConfig
    vpc_id: pulumi.Input[str]


class Security(pulumi.ComponentResource):
    groups: dict[Group, aws.ec2.SecurityGroup]

    def __init__(self, name: str, args: SecurityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eco2:infra:Security", name, None, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)
        self.groups = {
            group: aws.ec2.SecurityGroup(
                f"sg-{group}",
                name=f"{config.name_prefix}-{group}",
                description=f"Eco2 {config.stack} {group}",
                vpc_id=args.vpc_id,
                tags=common_tags(config, name=str(group)),
                opts=child,
            )
            for group in Group
        }
        for rule in security_rules(config.admin_cidrs):
            rule_type = (
                aws.vpc.SecurityGroupIngressRule
                if rule.direction == "ingress"
                else aws.vpc.SecurityGroupEgressRule
            )
            rule_type(
                f"{rule.group}-{rule.direction}-{rule.name}",
                security_group_id=self.groups[rule.group].id,
                ip_protocol=rule.protocol,
                from_port=rule.from_port,
                to_port=rule.to_port,
                description=rule.description,
                cidr_ipv4=rule.cidr,
                referenced_security_group_id=self.groups[rule.peer_group].id if rule.peer_group else None,
                tags=common_tags(config, name=f"{rule.group}-{rule.name}"),
                opts=child,
            )
        self.register_outputs({str(group): sg.id for group, sg in self.groups.items()})
