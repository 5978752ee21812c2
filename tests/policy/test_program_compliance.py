"""Every rule of the pack over every resource the Eco² program declares, for both stacks.

The program runs under the mock engine of ``tests/infra/harness.py``; its captured inputs go through the
rules exactly as the analyzer would pass them (``tests/policy/runner.py``). A second set of tests breaks one
real resource at a time to prove the rules read the shapes the program actually produces.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import eco2_policies as pack
import pytest
from pulumi_policy import PolicyProviderResource

from tests.infra.harness import STACKS, CapturedResource, run_program
from tests.policy.runner import StackEntry, provider, validate_resource, validate_stack

INSTANCE = "aws:ec2/instance:Instance"
LISTENER = "aws:lb/listener:Listener"
INGRESS_TYPES = (pack.SECURITY_GROUP_TYPE, pack.SECURITY_GROUP_RULE_TYPE, pack.INGRESS_RULE_TYPE)


def _providers(resources: Sequence[CapturedResource]) -> dict[str, PolicyProviderResource]:
    return {
        resource.urn: provider(resource.type_, resource.name, resource.inputs, urn=resource.urn)
        for resource in resources
        if resource.type_.startswith("pulumi:providers:")
    }


def violations(resources: Sequence[CapturedResource]) -> list[str]:
    """``[policy] message`` for every violation of every resource and stack policy."""
    providers = _providers(resources)
    found: list[str] = []
    for resource in resources:
        explicit_provider = providers.get(resource.provider) if resource.provider else None
        for resource_policy in pack.RESOURCE_POLICIES:
            messages = validate_resource(
                resource_policy,
                resource.type_,
                resource.inputs,
                name=resource.name,
                provider_resource=explicit_provider,
            )
            found.extend(f"[{resource_policy.name}] {message}" for message in messages)
    entries = [
        StackEntry(r.type_, r.name, r.inputs, urn=r.urn, property_dependencies=r.property_dependencies)
        for r in resources
    ]
    for stack_policy in pack.STACK_POLICIES:
        found.extend(f"[{stack_policy.name}] {v.message}" for v in validate_stack(stack_policy, entries))
    return found


@pytest.fixture(params=STACKS)
def program(request: pytest.FixtureRequest) -> list[CapturedResource]:
    return run_program(request.param)


def _of(resources: Sequence[CapturedResource], *types: str) -> list[CapturedResource]:
    return [resource for resource in resources if resource.type_ in types]


def _https_listeners(resources: Sequence[CapturedResource]) -> list[CapturedResource]:
    return [r for r in _of(resources, LISTENER) if str(r.inputs.get("protocol")).upper() == "HTTPS"]


def test_program_declares_what_every_rule_guards(program: list[CapturedResource]) -> None:
    """Zero violations only mean something if each rule had resources to look at."""
    guarded = {
        pack.IMDSV2_REQUIRED.name: _of(program, *pack.INSTANCE_TYPES, pack.LAUNCH_TEMPLATE_TYPE),
        pack.EBS_ENCRYPTED.name: _of(
            program, *pack.INSTANCE_TYPES, pack.LAUNCH_TEMPLATE_TYPE, pack.VOLUME_TYPE
        ),
        pack.NO_WORLD_ADMIN_INGRESS.name: _of(program, *INGRESS_TYPES),
        pack.LISTENER_TLS13.name: _https_listeners(program),
        pack.REQUIRED_TAGS.name: _of(program, *pack.TAGGABLE_TYPES),
        pack.S3_PUBLIC_ACCESS_BLOCKED.name: _of(program, *pack.BUCKET_TYPES),
        pack.S3_ENCRYPTED.name: _of(program, *pack.BUCKET_TYPES),
    }
    assert set(guarded) == {policy.name for policy in pack.ALL_POLICIES}
    assert {name: bool(resources) for name, resources in guarded.items()} == dict.fromkeys(guarded, True)
    assert len(_of(program, INSTANCE)) >= 3, "the cluster has control-plane and worker nodes"


def test_program_passes_every_rule(program: list[CapturedResource]) -> None:
    assert violations(program) == []


Mutation = Callable[[list[CapturedResource]], list[CapturedResource]]


def _edit_first(type_: str, edit: Callable[[dict[str, Any]], None]) -> Mutation:
    """Change the inputs of the first resource of ``type_`` (a deep copy; the cached run stays intact)."""

    def mutate(resources: list[CapturedResource]) -> list[CapturedResource]:
        index = next(i for i, resource in enumerate(resources) if resource.type_ == type_)
        inputs = copy.deepcopy(resources[index].inputs)
        edit(inputs)
        return [
            *resources[:index],
            dataclasses.replace(resources[index], inputs=inputs),
            *resources[index + 1 :],
        ]

    return mutate


def _edit_https_listener(resources: list[CapturedResource]) -> list[CapturedResource]:
    target = _https_listeners(resources)[0]
    weakened = dataclasses.replace(target, inputs={**target.inputs, "sslPolicy": "ELBSecurityPolicy-2016-08"})
    return [weakened if resource is target else resource for resource in resources]


def _drop_public_access_blocks(resources: list[CapturedResource]) -> list[CapturedResource]:
    return [resource for resource in resources if resource.type_ != pack.PUBLIC_ACCESS_BLOCK_TYPE]


def _drop_encryption(resources: list[CapturedResource]) -> list[CapturedResource]:
    return [resource for resource in resources if resource.type_ not in pack.BUCKET_ENCRYPTION_TYPES]


def _open_ssh_to_world(resources: list[CapturedResource]) -> list[CapturedResource]:
    """Widen the program's first ingress permission to SSH from anywhere, in whatever form it is declared."""
    target = _of(resources, *INGRESS_TYPES)[0]
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
    return [dataclasses.replace(target, inputs=inputs) if r is target else r for r in resources]


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
    pytest.param(_edit_https_listener, "[lb-https-listener-tls13] lb.Listener", id="tls10-listener"),
    pytest.param(
        _drop_public_access_blocks, "[s3-bucket-public-access-blocked] s3.Bucket", id="public-bucket"
    ),
    pytest.param(_drop_encryption, "[s3-bucket-encrypted] s3.Bucket", id="unencrypted-bucket"),
]


@pytest.mark.parametrize(("mutate", "reported"), MUTATIONS)
def test_breaking_a_real_resource_is_reported(
    program: list[CapturedResource], mutate: Mutation, reported: str
) -> None:
    found = violations(mutate(program))
    assert found, "the mutation went unnoticed"
    assert all(message.startswith(reported) for message in found), found
