from __future__ import annotations

import pytest

from infra.components.network import pick_zones, subnet_cidrs
from tools.plan.harness import STACKS, of_type, run_program


@pytest.mark.parametrize("stack", STACKS)
def test_three_public_subnets_in_distinct_zones(stack):
    resources = run_program(stack)
    subnets = of_type(resources, "aws:ec2/subnet:Subnet")
    assert len(subnets) == 3
    assert len({subnet.inputs["availabilityZone"] for subnet in subnets}) == 3
    assert all(subnet.inputs["mapPublicIpOnLaunch"] is True for subnet in subnets)
    (vpc,) = of_type(resources, "aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == "10.0.0.0/16"
    assert sorted(subnet.inputs["cidrBlock"] for subnet in subnets) == [
        "10.0.0.0/20",
        "10.0.16.0/20",
        "10.0.32.0/20",
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_default_route_goes_to_the_internet_gateway(stack):
    resources = run_program(stack)
    (route,) = of_type(resources, "aws:ec2/route:Route")
    (gateway,) = of_type(resources, "aws:ec2/internetGateway:InternetGateway")
    assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0"
    assert gateway.urn in route.property_dependencies["gatewayId"]
    assert len(of_type(resources, "aws:ec2/routeTableAssociation:RouteTableAssociation")) == 3


def test_subnet_cidrs_split_the_vpc_evenly():
    assert subnet_cidrs("10.0.0.0/16") == ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"]
    assert subnet_cidrs("10.1.0.0/20", 2) == ["10.1.0.0/24", "10.1.1.0/24"]


def test_pick_zones_needs_three_distinct_zones():
    assert pick_zones(["b", "a", "c", "d", "a"]) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="need 3 availability zones"):
        pick_zones(["a", "b", "a"])
