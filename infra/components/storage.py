"""The image bucket: private, encrypted, TLS-only, CORS for browser uploads from the app's origins, and a
lifecycle that removes abandoned multipart uploads and photos past their retention period."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.iam import UPLOAD_PREFIX
from infra.config import StackConfig
from infra.tags import common_tags

CORS_METHODS = ("GET", "HEAD", "POST", "PUT")
"""Presigned POST/PUT for uploads, presigned GET/HEAD to show the photo back to its owner."""
CORS_HEADERS = ("Content-Type", "Content-MD5", "x-amz-*")
CORS_MAX_AGE_SECONDS = 3000
INCOMPLETE_UPLOAD_DAYS = 1


def bucket_name(config: StackConfig, account_id: str) -> str:
    """Globally unique and predictable: ``eco2-dev-images-123456789012``."""
    return f"{config.name_prefix}-images-{account_id}"


def tls_only_policy(bucket_arn: str) -> str:
    """Deny every request that does not use TLS (presigned URLs included)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        },
        sort_keys=True,
    )


@dataclass(frozen=True)
class StorageArgs:
    config: StackConfig
    account_id: str


class Storage(pulumi.ComponentResource):
    bucket: aws.s3.Bucket

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eco2:infra:Storage", name, None, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(
            "images",
            bucket=bucket_name(config, args.account_id),
            force_destroy=config.bucket_force_destroy,
            tags=common_tags(config, name="images"),
            # Users' photos: a stack that may not empty the bucket may not delete it by accident either.
            opts=pulumi.ResourceOptions(parent=self, protect=not config.bucket_force_destroy),
        )
        bucket_id = self.bucket.id
        aws.s3.BucketOwnershipControls(
            "images-ownership",
            bucket=bucket_id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        public_access_block = aws.s3.BucketPublicAccessBlock(
            "images-public-access",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            "images-encryption",
            bucket=bucket_id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        aws.s3.BucketPolicy(
            "images-tls-only",
            bucket=bucket_id,
            policy=self.bucket.arn.apply(tls_only_policy),
            # S3 rejects a bucket policy while the public-access block is still being applied.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access_block]),
        )
        aws.s3.BucketCorsConfiguration(
            "images-cors",
            bucket=bucket_id,
            cors_rules=[
                aws.s3.BucketCorsConfigurationCorsRuleArgs(
                    id="browser-uploads",
                    allowed_origins=list(config.app_origins),
                    allowed_methods=list(CORS_METHODS),
                    allowed_headers=list(CORS_HEADERS),
                    expose_headers=["ETag"],
                    max_age_seconds=CORS_MAX_AGE_SECONDS,
                )
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            "images-lifecycle",
            bucket=bucket_id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="abort-incomplete-uploads",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=INCOMPLETE_UPLOAD_DAYS
                    ),
                ),
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-scans",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=UPLOAD_PREFIX),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=config.image_retention_days
                    ),
                ),
            ],
            opts=child,
        )
        self.register_outputs({"bucket": self.bucket.bucket, "arn": self.bucket.arn})
