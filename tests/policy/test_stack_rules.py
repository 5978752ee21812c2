"""The S3 stack rules: each bucket needs its own public-access block and encryption configuration."""

from __future__ import annotations

from typing import Any

import eco2_policies as pack
import pytest
from pulumi_policy import StackValidationPolicy

from tests.policy.runner import StackEntry, Violation, urn_of, validate_stack

BUCKET = "aws:s3/bucket:Bucket"
BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
ALL_FLAGS_ON = dict.fromkeys(pack.PUBLIC_ACCESS_BLOCK_FLAGS, True)
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


@pytest.mark.parametrize("policy", pack.STACK_POLICIES, ids=lambda policy: policy.name)
def test_guarded_buckets_pass(policy: StackValidationPolicy) -> None:
    assert validate_stack(policy, [*guarded(UPLOADS), *guarded(bucket("artifacts"))]) == []


@pytest.mark.parametrize("policy", pack.STACK_POLICIES, ids=lambda policy: policy.name)
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
    for policy in pack.STACK_POLICIES:
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
    for policy in pack.STACK_POLICIES:
        reported = [violation.message.split(":")[0] for violation in validate_stack(policy, entries)]
        assert reported == ["s3.Bucket 'logs'", "s3.BucketV2 'legacy'"]
