"""The EC2 nodes (one per NodeSpec from config), their key pair, and the master's stable endpoint.

The master gets a fixed private IP (the kubeadm ``controlPlaneEndpoint`` the workers join through) and an
Elastic IP with a ``k8s.<domain>`` record (the public endpoint for admins and Pulumi's Kubernetes provider).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.network import subnet_cidrs
from infra.config import NodeSpec, StackConfig
from infra.render.cloud_init import render_cloud_init
from infra.roles import IamProfile
from infra.tags import common_tags

UBUNTU_OWNER = "099720109477"  # Canonical
UBUNTU_IMAGE_NAME = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
CONTROL_PLANE_HOST_INDEX = 10
"""The master's address inside its subnet (AWS reserves the first four)."""
IMDS_HOP_LIMIT = 2
"""Two hops so pods (one extra network hop) can reach IMDSv2, e.g. the API presigning S3 uploads."""


def control_plane_private_ip(vpc_cidr: str) -> str:
    """The fixed private address of the master, in the first subnet (where ordinal 0 lands)."""
    return str(ipaddress.IPv4Network(subnet_cidrs(vpc_cidr)[0])[CONTROL_PLANE_HOST_INDEX])


@dataclass(frozen=True)
class NodesArgs:
    config: StackConfig
    subnet_ids: Sequence[pulumi.Input[str]]
    node_security_group_id: pulumi.Input[str]
    control_plane_security_group_id: pulumi.Input[str]
    instance_profiles: dict[IamProfile, pulumi.Input[str]]
    """Instance profile *names* per IAM profile."""
    hosted_zone_id: str


class Nodes(pulumi.ComponentResource):
    instances: dict[str, aws.ec2.Instance]
    """Keyed by node name (``master``, ``api-1`` ...), in config order."""
    specs: dict[str, NodeSpec]
    control_plane_public_ip: pulumi.Output[str]
    """The Elastic IP, resolved only once it is associated with the master."""
    control_plane_private_ip: str

    def __init__(self, name: str, args: NodesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eco2:infra:Nodes", name, None, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)

        key_pair = aws.ec2.KeyPair(
            "deploy-key",
            key_name=f"{config.name_prefix}-deploy",
            public_key=config.ssh_public_key,
            tags=common_tags(config, name="deploy-key"),
            opts=child,
        )
        ami = aws.ec2.get_ami(
            most_recent=True,
            owners=[UBUNTU_OWNER],
            filters=[
                aws.ec2.GetAmiFilterArgs(name="name", values=[UBUNTU_IMAGE_NAME]),
                aws.ec2.GetAmiFilterArgs(name="virtualization-type", values=["hvm"]),
            ],
            opts=pulumi.InvokeOptions(parent=self),
        )
        self.control_plane_private_ip = control_plane_private_ip(config.vpc_cidr)
        self.specs = {spec.name: spec for spec in config.nodes}
        self.instances = {}
        for spec in config.nodes:
            security_groups = [args.node_security_group_id]
            if spec.is_control_plane:
                security_groups.append(args.control_plane_security_group_id)
            self.instances[spec.name] = aws.ec2.Instance(
                f"node-{spec.name}",
                ami=ami.id,
                instance_type=spec.instance_type,
                subnet_id=args.subnet_ids[spec.ordinal % len(args.subnet_ids)],
                private_ip=self.control_plane_private_ip if spec.is_control_plane else None,
                vpc_security_group_ids=security_groups,
                iam_instance_profile=args.instance_profiles[spec.role.iam_profile],
                key_name=key_pair.key_name,
                user_data=render_cloud_init(
                    node_name=spec.name, kubernetes_version=config.kubernetes_version
                ),
                user_data_replace_on_change=False,
                root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                    volume_type="gp3",
                    volume_size=spec.root_volume_gib,
                    encrypted=True,
                    delete_on_termination=True,
                    tags=common_tags(config, name=f"{spec.name}-root", role=spec.role.name),
                ),
                metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                    http_endpoint="enabled",
                    http_tokens="required",
                    http_put_response_hop_limit=IMDS_HOP_LIMIT,
                ),
                tags=common_tags(config, name=spec.name, role=spec.role.name),
                # A newer AMI or re-rendered user data must not silently replace or restart a cluster node;
                # roll a node deliberately with `pulumi up --replace <urn>`.
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["ami", "userData"]),
            )

        master = self.instances[config.control_plane.name]
        eip = aws.ec2.Eip(
            "control-plane-eip",
            domain="vpc",
            tags=common_tags(config, name="control-plane", role=config.control_plane.role.name),
            opts=child,
        )
        association = aws.ec2.EipAssociation(
            "control-plane-eip-association",
            allocation_id=eip.allocation_id,
            instance_id=master.id,
            opts=child,
        )
        self.control_plane_public_ip = pulumi.Output.all(association.id, eip.public_ip).apply(
            lambda a: str(a[1])
        )
        aws.route53.Record(
            "control-plane-dns",
            zone_id=args.hosted_zone_id,
            name=config.api_endpoint_name,
            type="A",
            ttl=300,
            records=[eip.public_ip],
            opts=child,
        )
        self.register_outputs(
            {
                "controlPlanePublicIp": self.control_plane_public_ip,
                "instanceIds": {name: instance.id for name, instance in self.instances.items()},
            }
        )

    def ips_by_role(self) -> pulumi.Output[dict[str, list[dict[str, str]]]]:
        """``{role: [{name, privateIp, publicIp}]}`` for the stack outputs (master's public IP = the EIP)."""
        entries = [
            pulumi.Output.all(
                name=name,
                role=self.specs[name].role.name,
                privateIp=instance.private_ip,
                publicIp=self.control_plane_public_ip
                if self.specs[name].is_control_plane
                else instance.public_ip,
            )
            for name, instance in self.instances.items()
        ]

        def group(resolved: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
            by_role: dict[str, list[dict[str, str]]] = {}
            for entry in resolved:
                node = {key: value for key, value in entry.items() if key != "role"}
                by_role.setdefault(entry["role"], []).append(node)
            return by_role

        return pulumi.Output.all(*entries).apply(group)
