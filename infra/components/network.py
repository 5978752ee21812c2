"""VPC with one public subnet per availability zone, an internet gateway and the default route."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.config import StackConfig
from infra.tags import common_tags

SUBNET_COUNT = 3
SUBNET_PREFIX_DELTA = 4
"""Each subnet is 1/16 of the VPC (a /20 in a /16): room for the nodes and the ALB's interfaces."""


def subnet_cidrs(vpc_cidr: str, count: int = SUBNET_COUNT) -> list[str]:
    """The first ``count`` equally sized subnets of the VPC range."""
    network = ipaddress.IPv4Network(vpc_cidr)
    subnets = network.subnets(prefixlen_diff=SUBNET_PREFIX_DELTA)
    return [str(next(subnets)) for _ in range(count)]


def pick_zones(available: list[str], count: int = SUBNET_COUNT) -> list[str]:
    """Distinct zones for the subnets, in AWS's order; fails clearly if the region has too few."""
    zones = sorted(set(available))
    if len(zones) < count:
        raise ValueError(f"need {count} availability zones, the region offers {len(zones)}: {zones}")
    return zones[:count]


@dataclass(frozen=True)
class NetworkArgs:
    config: StackConfig


class Network(pulumi.ComponentResource):
    vpc: aws.ec2.Vpc
    subnets: list[aws.ec2.Subnet]
    zones: list[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eco2:infra:Network", name, None, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)

        available = aws.get_availability_zones(state="available", opts=pulumi.InvokeOptions(parent=self))
        self.zones = pick_zones(list(available.names))

        self.vpc = aws.ec2.Vpc(
            "vpc",
            cidr_block=config.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=common_tags(config, name="vpc"),
            opts=child,
        )
        gateway = aws.ec2.InternetGateway(
            "igw", vpc_id=self.vpc.id, tags=common_tags(config, name="igw"), opts=child
        )
        route_table = aws.ec2.RouteTable(
            "public", vpc_id=self.vpc.id, tags=common_tags(config, name="public"), opts=child
        )
        aws.ec2.Route(
            "public-default",
            route_table_id=route_table.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=gateway.id,
            opts=child,
        )
        self.subnets = []
        for zone, cidr in zip(self.zones, subnet_cidrs(config.vpc_cidr), strict=True):
            subnet = aws.ec2.Subnet(
                f"public-{zone}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=zone,
                map_public_ip_on_launch=True,
                tags=common_tags(config, name=f"public-{zone}"),
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"public-{zone}", subnet_id=subnet.id, route_table_id=route_table.id, opts=child
            )
            self.subnets.append(subnet)

        self.register_outputs({"vpcId": self.vpc.id, "subnetIds": [subnet.id for subnet in self.subnets]})
