"""Every security-group rule, as a table: who may reach which port of which group."""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass

import pytest

from infra.components.security import Group, Rule
from infra.ports import PUBLIC_ROUTES
from tools.plan.harness import STACKS, CapturedResource, of_type, run_program
from tools.plan.stack_runner import stack_config

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
WORLD_OPEN_ALLOWED = {("alb", "tcp", 80, 80), ("alb", "tcp", 443, 443)}


@dataclass(frozen=True)
class RuleRow:
    group: str
    protocol: str
    from_port: int | None
    to_port: int | None
    peer: str
    """A CIDR or the peer group's name."""


def group_names(resources: list[CapturedResource]) -> dict[str, str]:
    return {sg.urn: sg.name.removeprefix("sg-") for sg in of_type(resources, GROUP)}


def rows(resources: list[CapturedResource], type_: str) -> set[RuleRow]:
    names = group_names(resources)
    table = set()
    for rule in of_type(resources, type_):
        (group_urn,) = rule.property_dependencies["securityGroupId"]
        if "referencedSecurityGroupId" in rule.inputs:
            (peer_urn,) = rule.property_dependencies["referencedSecurityGroupId"]
            peer = names[peer_urn]
        else:
            peer = rule.inputs["cidrIpv4"]
        table.add(
            RuleRow(
                names[group_urn],
                rule.inputs["ipProtocol"],
                rule.inputs.get("fromPort"),
                rule.inputs.get("toPort"),
                peer,
            )
        )
    return table


def world_open_violations(table: set[RuleRow]) -> list[RuleRow]:
    """Ingress rows reachable from the whole internet that are not the ALB's HTTP/HTTPS."""
    return [
        row
        for row in table
        if is_world(row.peer)
        and (row.group, row.protocol, row.from_port, row.to_port) not in WORLD_OPEN_ALLOWED
    ]


def is_world(peer: str) -> bool:
    return "/" in peer and ipaddress.ip_network(peer).prefixlen == 0


def admin_cidrs(stack: str) -> list[str]:
    cidrs: list[str] = json.loads(stack_config(stack)["eco2:adminCidrs"])
    return cidrs


def expected_ingress(stack: str) -> set[RuleRow]:
    table = {
        RuleRow("control-plane", "tcp", 6443, 6443, "nodes"),
        RuleRow("control-plane", "tcp", 2379, 2380, "control-plane"),
        RuleRow("nodes", "tcp", 10250, 10250, "nodes"),
        RuleRow("nodes", "tcp", 22, 22, "control-plane"),  # the master runs each worker's join
        RuleRow("nodes", "udp", 4789, 4789, "nodes"),
        RuleRow("nodes", "tcp", 5473, 5473, "nodes"),
        RuleRow("nodes", "tcp", 9100, 9100, "nodes"),
        RuleRow("alb", "tcp", 80, 80, "0.0.0.0/0"),
        RuleRow("alb", "tcp", 443, 443, "0.0.0.0/0"),
    }
    for cidr in admin_cidrs(stack):
        table |= {RuleRow("nodes", "tcp", 22, 22, cidr), RuleRow("control-plane", "tcp", 6443, 6443, cidr)}
    for route in PUBLIC_ROUTES:
        table.add(RuleRow("nodes", "tcp", route.node_port, route.node_port, "alb"))
    return table


@pytest.mark.parametrize("stack", STACKS)
def test_ingress_rules_are_exactly_the_table(stack):
    resources = run_program(stack)
    assert rows(resources, INGRESS) == expected_ingress(stack)
    assert len(of_type(resources, INGRESS)) == len(expected_ingress(stack))


@pytest.mark.parametrize("stack", STACKS)
def test_nothing_but_alb_http_and_https_is_open_to_the_world(stack):
    assert world_open_violations(rows(run_program(stack), INGRESS)) == []


def test_the_world_open_check_catches_a_leak():
    leaky = {RuleRow("nodes", "tcp", 22, 22, "0.0.0.0/0"), RuleRow("alb", "tcp", 443, 443, "0.0.0.0/0")}
    assert world_open_violations(leaky) == [RuleRow("nodes", "tcp", 22, 22, "0.0.0.0/0")]


@pytest.mark.parametrize("stack", STACKS)
def test_ssh_and_api_server_only_from_admin_cidrs_and_the_cluster(stack):
    table = rows(run_program(stack), INGRESS)
    sources = {row.peer for row in table if row.from_port in (22, 6443)}
    assert sources == set(admin_cidrs(stack)) | {"nodes", "control-plane"}


@pytest.mark.parametrize("stack", STACKS)
def test_node_ports_only_from_the_alb(stack):
    table = rows(run_program(stack), INGRESS)
    node_port_rows = [row for row in table if row.from_port is not None and 30000 <= row.from_port <= 32767]
    assert {row.peer for row in node_port_rows} == {"alb"}
    assert {row.from_port for row in node_port_rows} == {route.node_port for route in PUBLIC_ROUTES}


@pytest.mark.parametrize("stack", STACKS)
def test_egress_alb_reaches_only_node_ports(stack):
    table = rows(run_program(stack), EGRESS)
    alb = {row for row in table if row.group == "alb"}
    assert alb == {RuleRow("alb", "tcp", r.node_port, r.node_port, "nodes") for r in PUBLIC_ROUTES}
    assert {row for row in table if row.group == "nodes"} == {RuleRow("nodes", "-1", None, None, "0.0.0.0/0")}


@pytest.mark.parametrize("stack", STACKS)
def test_master_has_both_node_groups_and_workers_only_the_node_group(stack):
    resources = run_program(stack)
    names = group_names(resources)
    for instance in of_type(resources, "aws:ec2/instance:Instance"):
        groups = {names[urn] for urn in instance.property_dependencies["vpcSecurityGroupIds"]}
        expected = {"nodes", "control-plane"} if instance.name == "node-master" else {"nodes"}
        assert groups == expected, instance.name


@pytest.mark.parametrize(("peer_group", "cidr"), [(None, None), (Group.NODES, "10.0.0.0/16")])
def test_a_rule_has_exactly_one_peer(peer_group, cidr):
    with pytest.raises(ValueError, match="exactly one of peer_group / cidr"):
        Rule("broken", Group.NODES, "ingress", "tcp", 1, 1, "broken", peer_group=peer_group, cidr=cidr)


@pytest.mark.parametrize("stack", STACKS)
def test_descriptions_use_only_characters_ec2_accepts(stack):
    allowed = re.compile(r"^[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]{1,255}$")
    resources = run_program(stack)
    for resource in of_type(resources, GROUP) + of_type(resources, INGRESS) + of_type(resources, EGRESS):
        assert allowed.match(resource.inputs["description"]), (resource.name, resource.inputs["description"])
