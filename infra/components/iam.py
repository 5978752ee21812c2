"""One IAM role and instance profile per node profile (control plane, app, stateful).

Every node gets SSM Session Manager (shell access without opening more ports) and the EBS CSI driver's
managed policy (its controller may run on any untainted node). Only the app nodes (API and Celery pods) may
read and write user uploads, and only under the bucket's ``scans/`` prefix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.config import StackConfig
from infra.roles import IamProfile
from infra.tags import common_tags

SSM_CORE_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
EBS_CSI_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
UPLOAD_PREFIX = "scans/"
"""Key prefix of user uploads (``scans/{user_id}/{uuid}.{ext}``)."""

EC2_ASSUME_ROLE_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    },
    sort_keys=True,
)


def image_bucket_policy(bucket_arn: str) -> str:
    """Least-privilege access to user uploads: objects under ``scans/`` and listing that prefix only."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "UploadObjects",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    "Resource": f"{bucket_arn}/{UPLOAD_PREFIX}*",
                },
                {
                    "Sid": "ListUploads",
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": bucket_arn,
                    "Condition": {"StringLike": {"s3:prefix": [f"{UPLOAD_PREFIX}*"]}},
                },
            ],
        },
        sort_keys=True,
    )


@dataclass(frozen=True)
class IamArgs:
    config: StackConfig
    image_bucket_arn: pulumi.Input[str]


class Iam(pulumi.ComponentResource):
    roles: dict[IamProfile, aws.iam.Role]
    instance_profiles: dict[IamProfile, aws.iam.InstanceProfile]

    def __init__(self, name: str, args: IamArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eco2:infra:Iam", name, None, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)
        self.roles = {}
        self.instance_profiles = {}
        for profile in IamProfile:
            physical = f"{config.name_prefix}-{profile}"
            role = aws.iam.Role(
                f"role-{profile}",
                name=physical,
                description=f"Eco2 {config.stack} {profile} nodes",
                assume_role_policy=EC2_ASSUME_ROLE_POLICY,
                tags=common_tags(config, name=str(profile)),
                opts=child,
            )
            for short, policy_arn in (("ssm", SSM_CORE_POLICY), ("ebs-csi", EBS_CSI_POLICY)):
                aws.iam.RolePolicyAttachment(
                    f"role-{profile}-{short}", role=role.name, policy_arn=policy_arn, opts=child
                )
            if profile is IamProfile.APP:
                aws.iam.RolePolicy(
                    f"role-{profile}-image-bucket",
                    role=role.id,
                    policy=pulumi.Output.from_input(args.image_bucket_arn).apply(image_bucket_policy),
                    opts=child,
                )
            self.roles[profile] = role
            self.instance_profiles[profile] = aws.iam.InstanceProfile(
                f"profile-{profile}",
                name=physical,
                role=role.name,
                tags=common_tags(config, name=str(profile)),
                opts=child,
            )
        self.register_outputs({str(p): ip.arn for p, ip in self.instance_profiles.items()})
