"""EC2 nodes: one per configured node with its role and size, hardened, spread over zones; grown by config."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from typing import Any

import pytest
import yaml

from infra.components.nodes import control_plane_private_ip
from tools.plan.harness import STACKS, ProgramRun, by_name, execute, of_type, run_program
from tools.plan.stack_runner import stack_config

INSTANCE = "aws:ec2/instance:Instance"
COMMAND = "command:remote:Command"


def configured_nodes(stack: str) -> dict[str, dict[str, Any]]:
    nodes: dict[str, dict[str, Any]] = json.loads(stack_config(stack)["eco2:nodes"])
    return nodes


@cache
def grown_dev() -> ProgramRun:
    """dev with a second API worker and a second Celery worker: nine nodes."""
    nodes = configured_nodes("dev")
    nodes["api"]["count"] = 2
    nodes["async"]["count"] = 2
    return execute("dev", {"eco2:nodes": json.dumps(nodes)})


@pytest.mark.parametrize("stack", STACKS)
def test_seven_nodes_with_roles_and_sizes_from_config(stack):
    instances = of_type(run_program(stack), INSTANCE)
    pools = configured_nodes(stack)
    by_role = {instance.tags["Role"]: instance for instance in instances}
    assert len(instances) == 7
    assert set(by_role) == set(pools)
    for role, instance in by_role.items():
        assert instance.inputs["instanceType"] == pools[role]["instanceType"]
        assert instance.inputs["rootBlockDevice"]["volumeSize"] == pools[role].get("rootVolumeGiB", 30)


@pytest.mark.parametrize("stack", STACKS)
def test_nodes_are_hardened(stack):
    for instance in of_type(run_program(stack), INSTANCE):
        root = instance.inputs["rootBlockDevice"]
        assert (root["volumeType"], root["encrypted"], root["deleteOnTermination"]) == ("gp3", True, True)
        assert root["tags"]["Role"] == instance.tags["Role"]
        assert instance.inputs["metadataOptions"] == {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 2,
        }
        assert instance.inputs["keyName"] == f"eco2-{stack}-deploy"
        assert set(instance.ignore_changes) == {"ami", "userData"}
        assert instance.inputs["userDataReplaceOnChange"] is False


@pytest.mark.parametrize("stack", STACKS)
def test_user_data_is_cloud_config_naming_the_node(stack):
    for instance in of_type(run_program(stack), INSTANCE):
        user_data = instance.inputs["userData"]
        assert user_data.startswith("#cloud-config\n")
        assert yaml.safe_load(user_data)["hostname"] == instance.name.removeprefix("node-")
        assert len(user_data.encode()) < 16 * 1024  # EC2's user-data limit


@pytest.mark.parametrize("stack", STACKS)
def test_nodes_spread_over_the_three_zones(stack):
    resources = run_program(stack)
    subnets = {subnet.urn for subnet in of_type(resources, "aws:ec2/subnet:Subnet")}
    placement = Counter(
        instance.property_dependencies["subnetId"][0] for instance in of_type(resources, INSTANCE)
    )
    assert set(placement) == subnets
    assert max(placement.values()) - min(placement.values()) <= 1


@pytest.mark.parametrize("stack", STACKS)
def test_master_has_a_fixed_private_ip_and_an_elastic_ip(stack):
    resources = run_program(stack)
    master = by_name(resources, INSTANCE, "node-master")
    assert master.inputs["privateIp"] == control_plane_private_ip("10.0.0.0/16") == "10.0.0.10"
    assert all("privateIp" not in i.inputs for i in of_type(resources, INSTANCE) if i.name != "node-master")
    association = by_name(resources, "aws:ec2/eipAssociation:EipAssociation", "control-plane-eip-association")
    assert association.property_dependencies["instanceId"] == (master.urn,)
    # The bootstrap reaches the master through the Elastic IP only once it is associated.
    assert association.urn in by_name(resources, COMMAND, "kubeadm-init").dependencies


def test_a_second_api_and_async_worker_is_a_config_change():
    resources = grown_dev().resources
    names = sorted(instance.name for instance in of_type(resources, INSTANCE))
    assert len(names) == 9
    assert {"node-api-2", "node-async-2"} <= set(names)
    joins = [c for c in of_type(resources, COMMAND) if c.name.startswith("kubeadm-join-")]
    assert sorted(j.name for j in joins) == sorted(
        f"kubeadm-join-{n.removeprefix('node-')}" for n in names if n != "node-master"
    )
    # Both API nodes serve every API target group (plus the monitoring node Grafana's); each new worker's
    # join mints its own token on the master.
    assert len(of_type(resources, "aws:lb/targetGroupAttachment:TargetGroupAttachment")) == 2 * 5 + 1
    assert grown_dev().outputs["nodes"]["value"]["api"][1]["name"] == "api-2"
