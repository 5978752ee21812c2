"""Every rule of the pack over every resource the Eco² program declares, for both stacks.

The program runs under the mock engine of ``tools/plan/harness.py``; its captured inputs go through the
rules exactly as the analyzer would pass them (``tools/plan/policy.py``, the runner ``make plan`` uses). A
second set of tests breaks one real resource at a time to prove the rules read the shapes the program
actually produces.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import eco2_policies as pack
import pytest

from tools.plan.harness import STACKS, CapturedResource, run_program
from tools.plan.policy import program_violations

INSTANCE = "aws:ec2/instance:Instance"
LISTENER = "aws:lb/listener:Listener"
INGRESS_TYPES = (pack.SECURITY_GROUP_TYPE, pack.SECURITY_GROUP_RULE_TYPE, pack.INGRESS_RULE_TYPE)


@dataclasses.dataclass(frozen=True)
class Program:
    stack: str
    resources: list[CapturedResource]


def violations(program: Program) -> list[str]:
    """``[policy] message`` for every violation of every resource and stack policy."""
    return program_violations(program.stack, program.resources)


@pytest.fixture(params=STACKS)
def program(request: pytest.FixtureRequest) -> Program:
    return Program(request.param, run_program(request.param))


def _of(resources: Sequence[CapturedResource], *types: str) -> list[CapturedResource]:
    return [resource for resource in resources if resource.type_ in types]


def _https_listeners(resources: Sequence[CapturedResource]) -> list[CapturedResource]:
    return [r for r in _of(resources, LISTENER) if str(r.inputs.get("protocol")).upper() == "HTTPS"]


def _world_facing(resources: Sequence[CapturedResource]) -> list[CapturedResource]:
    """Resources admitting the internet (on 80/443, the only ports the pack lets it reach)."""
    return [
        resource
        for resource in resources
        if any(p.world_sources() for p in pack.ingress_permissions(resource.type_, resource.inputs))
    ]


def test_program_declares_what_every_rule_guards(program: Program) -> None:
    """Zero violations only mean something if each rule had resources to look at."""
    resources = program.resources
    guarded = {
        pack.IMDSV2_REQUIRED.name: _of(resources, *pack.INSTANCE_TYPES, pack.LAUNCH_TEMPLATE_TYPE),
        pack.EBS_ENCRYPTED.name: _of(
            resources, *pack.INSTANCE_TYPES, pack.LAUNCH_TEMPLATE_TYPE, pack.VOLUME_TYPE
        ),
        pack.NO_WORLD_ADMIN_INGRESS.name: _of(resources, *INGRESS_TYPES),
        pack.LISTENER_TLS13.name: _https_listeners(resources),
        pack.WORLD_HTTP_ONLY_TO_LOAD_BALANCERS.name: _world_facing(resources),
        pack.REQUIRED_TAGS.name: _of(resources, *pack.TAGGABLE_TYPES),
        pack.S3_PUBLIC_ACCESS_BLOCKED.name: _of(resources, *pack.BUCKET_TYPES),
        pack.S3_ENCRYPTED.name: _of(resources, *pack.BUCKET_TYPES),
    }
    assert set(guarded) == {policy.name for policy in pack.ALL_POLICIES}
    assert {name: bool(resources) for name, resources in guarded.items()} == dict.fromkeys(guarded, True)
    assert len(_of(resources, INSTANCE)) >= 3, "the cluster has control-plane and worker nodes"


def test_program_passes_every_rule(program: Program) -> None:
    assert violations(program) == []


Mutation = Callable[[list[CapturedResource]], list[CapturedResource]]


def _first(resources: Sequence[CapturedResource], *types: str) -> CapturedResource:
    found = _of(resources, *types)
    if not found:
        pytest.fail(f"the program declares no {' / '.join(types)} to break")
    return found[0]


def _replace(
    resources: list[CapturedResource], target: CapturedResource, inputs: dict[str, Any]
) -> list[CapturedResource]:
    return [dataclasses.replace(target, inputs=inputs) if r is target else r for r in resources]


def _edit_first(type_: str, edit: Callable[[dict[str, Any]], None]) -> Mutation:
    """Change the inputs of the first resource of ``type_`` (a deep copy; the cached run stays intact)."""

    def mutate(resources: list[CapturedResource]) -> list[CapturedResource]:
        target = _first(resources, type_)
        inputs = copy.deepcopy(target.inputs)
        edit(inputs)
        return _replace(resources, target, inputs)

    return mutate


def _drop_all(*types: str) -> Mutation:
    def mutate(resources: list[CapturedResource]) -> list[CapturedResource]:
        _first(resources, *types)
        return [resource for resource in resources if resource.type_ not in types]

    return mutate


def _edit_https_listener(resources: list[CapturedResource]) -> list[CapturedResource]:
    listeners = _https_listeners(resources)
    if not listeners:
        pytest.fail("the program declares no HTTPS listener to break")
    target = listeners[0]
    return _replace(resources, target, {**target.inputs, "sslPolicy": "ELBSecurityPolicy-2016-08"})


def _open_ssh_to_world(resources: list[CapturedResource]) -> list[CapturedResource]:
    """Widen the program's first ingress permission to SSH from anywhere, in whatever form it is declared."""
    target = _first(resources, *INGRESS_TYPES)
    inputs = copy.deepcopy(target.inputs)
    ssh = {"fromPort": 22, "toPort": 22}
    if target.type_ == pack.INGRESS_RULE_TYPE:
        inputs |= {**ssh, "ipProtocol": "tcp", "cidrIpv4": "0.0.0.0/0"}
    elif target.type_ == pack.SECURITY_GROUP_RULE_TYPE:
        inputs |= {**ssh, "type": "ingress", "protocol": "tcp", "cidrBlocks": ["0.0.0.0/0"]}
    else:
        inputs["ingress"] = [
            *inputs.get("ingress", []),
            {**ssh, "protocol": "tcp", "cidrBlocks": ["0.0.0.0/0"]},
        ]
    return _replace(resources, target, inputs)


def _retarget_world_rule_to_nodes(resources: list[CapturedResource]) -> list[CapturedResource]:
    """Move the program's first world-facing ingress rule onto the security group of an instance."""
    rules = _of(_world_facing(resources), pack.INGRESS_RULE_TYPE)
    if not rules:
        pytest.fail("the program declares no world-facing security-group ingress rule to break")
    node = _first(resources, INSTANCE)
    node_group = node.property_dependencies["vpcSecurityGroupIds"][0]
    moved = dataclasses.replace(
        rules[0],
        inputs={**rules[0].inputs, "securityGroupId": "sg-of-the-node"},
        property_dependencies={**rules[0].property_dependencies, "securityGroupId": (node_group,)},
    )
    return [moved if resource is rules[0] else resource for resource in resources]


MUTATIONS = [
    pytest.param(
        _edit_first(
            INSTANCE, lambda i: i.update(metadataOptions={**i["metadataOptions"], "httpTokens": "optional"})
        ),
        "[ec2-imdsv2-required] ec2.Instance",
        id="imdsv1",
    ),
    pytest.param(
        _edit_first(
            INSTANCE, lambda i: i.update(rootBlockDevice={**i["rootBlockDevice"], "encrypted": False})
        ),
        "[ebs-volumes-encrypted] ec2.Instance",
        id="plain-root-volume",
    ),
    pytest.param(
        _edit_first(INSTANCE, lambda i: i.update(tags={k: v for k, v in i["tags"].items() if k != "Stack"})),
        "[aws-required-tags] ec2.Instance",
        id="untagged-instance",
    ),
    pytest.param(_open_ssh_to_world, "[no-world-ingress-except-http-https]", id="ssh-from-world"),
    pytest.param(
        _retarget_world_rule_to_nodes,
        "[world-http-only-to-load-balancers] vpc.SecurityGroupIngressRule",
        id="https-straight-to-a-node",
    ),
    pytest.param(_edit_https_listener, "[lb-https-listener-tls13] lb.Listener", id="tls10-listener"),
    pytest.param(
        _drop_all(pack.PUBLIC_ACCESS_BLOCK_TYPE),
        "[s3-bucket-public-access-blocked] s3.Bucket",
        id="public-bucket",
    ),
    pytest.param(
        _drop_all(*pack.BUCKET_ENCRYPTION_TYPES), "[s3-bucket-encrypted] s3.Bucket", id="unencrypted-bucket"
    ),
]


@pytest.mark.parametrize(("mutate", "reported"), MUTATIONS)
def test_breaking_a_real_resource_is_reported(program: Program, mutate: Mutation, reported: str) -> None:
    found = violations(dataclasses.replace(program, resources=mutate(program.resources)))
    assert found, "the mutation went unnoticed"
    assert all(message.startswith(reported) for message in found), found
