"""The image bucket's hardening and the node roles' permissions."""

from __future__ import annotations

import json

import pytest

from infra.components.iam import EBS_CSI_POLICY, SSM_CORE_POLICY
from tools.plan.harness import STACKS, CapturedResource, by_name, of_type, run_program

BUCKET = "aws:s3/bucket:Bucket"


def attached(resources: list[CapturedResource], type_: str) -> CapturedResource:
    """The one resource of ``type_`` configuring the image bucket (linked by its recorded dependency)."""
    bucket = by_name(resources, BUCKET, "images")
    (resource,) = [
        r for r in of_type(resources, type_) if r.property_dependencies.get("bucket") == (bucket.urn,)
    ]
    return resource


@pytest.mark.parametrize("stack", STACKS)
def test_bucket_blocks_public_access_and_acls(stack):
    resources = run_program(stack)
    block = attached(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block.inputs[flag] is True
    ownership = attached(resources, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    assert "acl" not in by_name(resources, BUCKET, "images").inputs


@pytest.mark.parametrize("stack", STACKS)
def test_bucket_is_encrypted_and_tls_only(stack):
    resources = run_program(stack)
    encryption = attached(
        resources, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    (rule,) = encryption.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    policy = json.loads(attached(resources, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize("stack", STACKS)
def test_cors_allows_only_the_app_origins(stack):
    cors = attached(run_program(stack), "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration")
    (rule,) = cors.inputs["corsRules"]
    domain = "dev.eco2.example.com" if stack == "dev" else "eco2.example.com"
    expected = [f"https://{domain}", f"https://www.{domain}"]
    if stack == "dev":
        expected.append("http://localhost:5173")
    assert rule["allowedOrigins"] == expected
    assert "*" not in rule["allowedOrigins"]
    assert set(rule["allowedMethods"]) == {"GET", "HEAD", "POST", "PUT"}
    assert "DELETE" not in rule["allowedMethods"]


@pytest.mark.parametrize(("stack", "retention"), [("dev", 7), ("prod", 30)])
def test_lifecycle_cleans_abandoned_uploads(stack, retention):
    lifecycle = attached(
        run_program(stack), "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    )
    rules = {rule["id"]: rule for rule in lifecycle.inputs["rules"]}
    assert rules["abort-incomplete-uploads"]["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 1}
    assert rules["expire-scans"]["filter"] == {"prefix": "scans/"}
    assert rules["expire-scans"]["expiration"] == {"days": retention}
    assert all(rule["status"] == "Enabled" for rule in rules.values())


@pytest.mark.parametrize(("stack", "force_destroy"), [("dev", True), ("prod", False)])
def test_only_dev_may_destroy_a_non_empty_bucket(stack, force_destroy):
    bucket = by_name(run_program(stack), BUCKET, "images")
    assert bucket.inputs["forceDestroy"] is force_destroy
    assert bucket.protect is not force_destroy
    assert bucket.inputs["bucket"] == f"eco2-{stack}-images-123456789012"


@pytest.mark.parametrize("stack", STACKS)
def test_every_node_role_gets_ssm_and_ebs_csi_and_only_app_nodes_the_bucket(stack):
    resources = run_program(stack)
    roles = {role.urn: role.inputs["name"] for role in of_type(resources, "aws:iam/role:Role")}
    policies: dict[str, set[str]] = {name: set() for name in roles.values()}
    for attachment in of_type(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        (role_urn,) = attachment.property_dependencies["role"]
        policies[roles[role_urn]].add(attachment.inputs["policyArn"])
    assert policies == {
        f"eco2-{stack}-{p}": {SSM_CORE_POLICY, EBS_CSI_POLICY} for p in ("control-plane", "app", "stateful")
    }
    (inline,) = of_type(resources, "aws:iam/rolePolicy:RolePolicy")
    (role_urn,) = inline.property_dependencies["role"]
    assert roles[role_urn] == f"eco2-{stack}-app"
    document = json.loads(inline.inputs["policy"])
    bucket_arn = "arn:aws:s3:::images"  # the mock's ARN for the bucket resource
    assert {s["Sid"]: s["Resource"] for s in document["Statement"]} == {
        "UploadObjects": f"{bucket_arn}/scans/*",
        "ListUploads": bucket_arn,
    }
    for role in of_type(resources, "aws:iam/role:Role"):
        principal = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"]
        assert principal == {"Service": "ec2.amazonaws.com"}


@pytest.mark.parametrize("stack", STACKS)
def test_nodes_get_the_profile_of_their_role(stack):
    resources = run_program(stack)
    expected = {
        "node-master": "control-plane",
        "node-api-1": "app",
        "node-async-1": "app",
        "node-monitoring": "stateful",
        "node-postgresql": "stateful",
        "node-rabbitmq": "stateful",
        "node-redis": "stateful",
    }
    for instance in of_type(resources, "aws:ec2/instance:Instance"):
        assert instance.inputs["iamInstanceProfile"] == f"eco2-{stack}-{expected[instance.name]}"
