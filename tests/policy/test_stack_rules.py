"""The stack rules: S3 buckets need their own guards; world HTTP(S) lands on load balancers only."""

from __future__ import annotations

from typing import Any

import eco2_policies as pack
import pytest
from pulumi_policy import StackValidationPolicy

from tools.plan.policy import StackEntry, Violation, urn_of, validate_stack

BUCKET = "aws:s3/bucket:Bucket"
BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
ALL_FLAGS_ON = dict.fromkeys(pack.PUBLIC_ACCESS_BLOCK_FLAGS, True)
S3_POLICIES = [pack.S3_PUBLIC_ACCESS_BLOCKED, pack.S3_ENCRYPTED]
KMS_RULES = [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}, "bucketKeyEnabled": True}]


def bucket(name: str = "uploads", **props: Any) -> StackEntry:
    return StackEntry(BUCKET, name, {"bucket": f"eco2-dev-{name}", "tags": {"Project": "eco2"}, **props})


def attached(type_: str, name: str, to: StackEntry, **props: Any) -> StackEntry:
    """A resource whose ``bucket`` input was fed by ``to`` (the engine records that dependency)."""
    return StackEntry(
        type_,
        name,
        {"bucket": f"{to.name}-0a1b2c3d", **props},
        property_dependencies={"bucket": [to.resolved_urn]},
    )


def guarded(target: StackEntry) -> list[StackEntry]:
    return [
        target,
        attached(BLOCK, f"{target.name}-public-access", target, **ALL_FLAGS_ON),
        attached(SSE, f"{target.name}-encryption", target, rules=KMS_RULES),
    ]


UPLOADS = bucket()


def only(violations: list[Violation]) -> Violation:
    assert len(violations) == 1, violations
    return violations[0]


@pytest.mark.parametrize("policy", S3_POLICIES, ids=lambda policy: policy.name)
def test_guarded_buckets_pass(policy: StackValidationPolicy) -> None:
    assert validate_stack(policy, [*guarded(UPLOADS), *guarded(bucket("artifacts"))]) == []


@pytest.mark.parametrize("policy", S3_POLICIES, ids=lambda policy: policy.name)
def test_a_stack_without_buckets_passes(policy: StackValidationPolicy) -> None:
    assert validate_stack(policy, [StackEntry("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"})]) == []


def test_guards_match_by_bucket_id_or_name_without_recorded_dependencies() -> None:
    """Outputs read back from state carry no property dependencies: the ``bucket`` value links them."""
    by_id = StackEntry(BUCKET, "uploads", {"bucket": "eco2-dev-uploads", "id": "eco2-dev-uploads-77"})
    entries = [
        by_id,
        StackEntry(BLOCK, "uploads-public-access", {"bucket": "eco2-dev-uploads-77", **ALL_FLAGS_ON}),
        StackEntry(SSE, "uploads-encryption", {"bucket": "eco2-dev-uploads", "rules": KMS_RULES}),
    ]
    for policy in S3_POLICIES:
        assert validate_stack(policy, entries) == []


def test_missing_public_access_block() -> None:
    entries = [UPLOADS, attached(SSE, "uploads-encryption", UPLOADS, rules=KMS_RULES)]
    violation = only(validate_stack(pack.S3_PUBLIC_ACCESS_BLOCKED, entries))
    assert violation.urn == urn_of(BUCKET, "uploads")
    assert violation.message.startswith("s3.Bucket 'uploads': no s3.BucketPublicAccessBlock refers to")


def test_public_access_block_with_a_flag_off() -> None:
    flags = {**ALL_FLAGS_ON, "restrictPublicBuckets": False}
    entries = [UPLOADS, attached(BLOCK, "uploads-public-access", UPLOADS, **flags)]
    violation = only(validate_stack(pack.S3_PUBLIC_ACCESS_BLOCKED, entries))
    assert violation.urn == urn_of(BLOCK, "uploads-public-access")
    assert "public-access block 'uploads-public-access' leaves restrictPublicBuckets off" in violation.message


def test_public_access_block_of_another_bucket_does_not_count() -> None:
    """The dependency the engine recorded wins over a look-alike ``bucket`` value."""
    other = bucket("artifacts")
    block = StackEntry(
        BLOCK,
        "artifacts-public-access",
        {"bucket": "eco2-dev-uploads", **ALL_FLAGS_ON},
        property_dependencies={"bucket": [other.resolved_urn]},
    )
    violations = validate_stack(pack.S3_PUBLIC_ACCESS_BLOCKED, [UPLOADS, other, block])
    assert only(violations).message.startswith("s3.Bucket 'uploads': no s3.BucketPublicAccessBlock")


def test_public_canned_acl() -> None:
    entries = guarded(bucket(acl="public-read"))
    violation = only(validate_stack(pack.S3_PUBLIC_ACCESS_BLOCKED, entries))
    assert (
        violation.message
        == "s3.Bucket 'uploads': canned ACL 'public-read' makes objects public; drop the acl input."
    )


def test_missing_encryption_configuration() -> None:
    entries = [UPLOADS, attached(BLOCK, "uploads-public-access", UPLOADS, **ALL_FLAGS_ON)]
    violation = only(validate_stack(pack.S3_ENCRYPTED, entries))
    assert violation.urn == urn_of(BUCKET, "uploads")
    assert "no s3.BucketServerSideEncryptionConfiguration refers to this bucket" in violation.message


@pytest.mark.parametrize(
    ("rules", "reported"),
    [
        pytest.param([], "sseAlgorithm []", id="no-rules"),
        pytest.param([{"bucketKeyEnabled": True}], "sseAlgorithm [None]", id="no-default"),
        pytest.param(
            [
                {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}},
                {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "rot13"}},
            ],
            "sseAlgorithm ['aws:kms', 'rot13']",
            id="unknown-algorithm",
        ),
    ],
)
def test_encryption_configuration_without_a_default_algorithm(rules: list[Any], reported: str) -> None:
    entries = [UPLOADS, attached(SSE, "uploads-encryption", UPLOADS, rules=rules)]
    violation = only(validate_stack(pack.S3_ENCRYPTED, entries))
    assert violation.urn == urn_of(SSE, "uploads-encryption")
    assert f"encryption configuration 'uploads-encryption' sets {reported}" in violation.message


def test_each_unguarded_bucket_is_reported() -> None:
    entries = [*guarded(UPLOADS), bucket("logs"), StackEntry("aws:s3/bucketV2:BucketV2", "legacy", {})]
    for policy in S3_POLICIES:
        reported = [violation.message.split(":")[0] for violation in validate_stack(policy, entries)]
        assert reported == ["s3.Bucket 'logs'", "s3.BucketV2 'legacy'"]


# --- world HTTP(S) reaches load balancers only --------------------------------------------------------

SG = pack.SECURITY_GROUP_TYPE
INGRESS = pack.INGRESS_RULE_TYPE
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
INSTANCE = "aws:ec2/instance:Instance"


def group(name: str, **props: Any) -> StackEntry:
    return StackEntry(SG, name, {"name": f"eco2-dev-{name}", "vpcId": "vpc-1", **props})


def world_rule(name: str, into: StackEntry, port: int = 443) -> StackEntry:
    return StackEntry(
        INGRESS,
        name,
        {
            "securityGroupId": f"{into.name}-0a1b",
            "ipProtocol": "tcp",
            "fromPort": port,
            "toPort": port,
            "cidrIpv4": "0.0.0.0/0",
        },
        property_dependencies={"securityGroupId": [into.resolved_urn]},
    )


def using(type_: str, name: str, key: str, *groups: StackEntry) -> StackEntry:
    """A resource whose ``key`` input lists ``groups`` (ids fed by the groups' outputs)."""
    return StackEntry(
        type_,
        name,
        {key: [f"{g.name}-0a1b" for g in groups]},
        property_dependencies={key: [g.resolved_urn for g in groups]},
    )


ALB_SG = group("alb")
NODES_SG = group("nodes")


def edge(*extra: StackEntry) -> list[StackEntry]:
    """The program's shape: world 80/443 into the ALB's group, nodes in their own group."""
    return [
        ALB_SG,
        NODES_SG,
        world_rule("alb-http", ALB_SG, port=80),
        world_rule("alb-https", ALB_SG),
        using(LOAD_BALANCER, "alb", "securityGroups", ALB_SG),
        using(INSTANCE, "node", "vpcSecurityGroupIds", NODES_SG),
        *extra,
    ]


def lb_messages(entries: list[StackEntry]) -> list[str]:
    return [v.message for v in validate_stack(pack.WORLD_HTTP_ONLY_TO_LOAD_BALANCERS, entries)]


def test_world_https_into_the_load_balancer_group_passes() -> None:
    assert lb_messages(edge()) == []


def test_inline_world_ingress_on_a_load_balancer_group_passes() -> None:
    inline = group(
        "alb-inline",
        ingress=[{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}],
    )
    assert lb_messages([inline, using(LOAD_BALANCER, "alb", "securityGroups", inline)]) == []


def test_world_ssh_is_left_to_the_ingress_rule() -> None:
    """Non-HTTP world ingress is the resource rule's violation; this rule does not report it twice."""
    assert lb_messages(edge(world_rule("nodes-ssh", NODES_SG, port=22))) == []


def test_groups_link_by_id_without_recorded_dependencies() -> None:
    alb = group("alb", id="sg-0alb")
    rule = StackEntry(
        INGRESS,
        "alb-https",
        {
            "securityGroupId": "sg-0alb",
            "ipProtocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "cidrIpv4": "0.0.0.0/0",
        },
    )
    balancer = StackEntry(LOAD_BALANCER, "alb", {"securityGroups": ["sg-0alb"]})
    assert lb_messages([alb, rule, balancer]) == []


def test_world_https_straight_into_the_nodes_group() -> None:
    messages = lb_messages(edge(world_rule("nodes-https", NODES_SG)))
    opened = (
        "vpc.SecurityGroupIngressRule 'nodes-https': opens tcp 443 from 0.0.0.0/0 "
        "on ec2.SecurityGroup 'nodes'"
    )
    assert len(messages) == 2
    assert messages[0].startswith(f"{opened}, which no load balancer uses;")
    assert messages[1].startswith(f"{opened}, which is also attached to ec2.Instance 'node';")


def test_load_balancer_group_shared_with_an_instance() -> None:
    messages = lb_messages(edge(using(INSTANCE, "bastion", "vpcSecurityGroupIds", NODES_SG, ALB_SG)))
    assert len(messages) == 2  # the http and the https rule
    assert all(
        "on ec2.SecurityGroup 'alb', which is also attached to ec2.Instance 'bastion'" in m for m in messages
    )


def test_world_https_into_a_group_outside_the_stack() -> None:
    rule = StackEntry(
        INGRESS,
        "stray",
        {
            "securityGroupId": "sg-0external",
            "ipProtocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "cidrIpv4": "::/0",
        },
    )
    message = only(validate_stack(pack.WORLD_HTTP_ONLY_TO_LOAD_BALANCERS, [rule])).message
    assert message.startswith(
        "vpc.SecurityGroupIngressRule 'stray': opens tcp 443 from ::/0 "
        "on a security group this stack does not declare"
    )


def test_unknown_ids_during_preview_do_not_stop_the_rule() -> None:
    """New groups have no id yet; the recorded dependencies still decide, unknown values match nothing."""
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    alb = group("alb", id=unknown)
    nodes = group("nodes", id=unknown)
    rule = StackEntry(
        INGRESS,
        "nodes-https",
        {
            "securityGroupId": unknown,
            "ipProtocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "cidrIpv4": "0.0.0.0/0",
        },
        property_dependencies={"securityGroupId": [nodes.resolved_urn]},
    )
    balancer = StackEntry(
        LOAD_BALANCER,
        "alb",
        {"securityGroups": [unknown]},
        property_dependencies={"securityGroups": [alb.resolved_urn]},
    )
    messages = lb_messages([alb, nodes, rule, balancer])
    assert len(messages) == 1
    assert "on ec2.SecurityGroup 'nodes', which no load balancer uses" in messages[0]
