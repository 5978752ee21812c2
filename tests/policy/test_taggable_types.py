"""The committed list of taggable types matches the pulumi-aws the program is built with."""

from __future__ import annotations

from pathlib import Path

import eco2_policies as pack
import generate_taggable_types as generator
import pytest


def test_committed_list_matches_installed_pulumi_aws() -> None:
    expected = generator.render(generator.taggable_types_in(generator.pulumi_aws_source_dir()))
    committed = generator.TAGGABLE_TYPES_FILE.read_text(encoding="utf-8")
    assert committed == expected, "pulumi-aws changed: run .venv/bin/python policy/generate_taggable_types.py"


def test_list_covers_what_the_program_tags_and_skips_what_it_cannot() -> None:
    for taggable in (
        "aws:ec2/instance:Instance",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:s3/bucket:Bucket",
        "aws:lb/listener:Listener",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    ):
        assert taggable in pack.TAGGABLE_TYPES
    for untaggable in (
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    ):
        assert untaggable not in pack.TAGGABLE_TYPES


def test_generator_reads_tags_from_the_constructor_inputs_only(tmp_path: Path) -> None:
    """A ``tags`` state attribute (in ``get``) does not make a type taggable; a ``tags`` input does."""
    (tmp_path / "thing.py").write_text(
        '@pulumi.type_token("aws:demo/tagged:Tagged")\n'
        "class Tagged(pulumi.CustomResource):\n"
        "    def _internal_init(__self__,\n                 resource_name: str,\n"
        "                 tags: Optional[dict] = None,\n                 __props__=None):\n        pass\n"
        '@pulumi.type_token("aws:demo/plain:Plain")\n'
        "class Plain(pulumi.CustomResource):\n"
        "    def _internal_init(__self__,\n                 resource_name: str,\n"
        "                 __props__=None):\n        pass\n"
        "    def get(resource_name, tags=None):\n        pass\n",
        encoding="utf-8",
    )
    assert generator.taggable_types_in(tmp_path) == ["aws:demo/tagged:Tagged"]


def test_generator_refuses_a_resource_without_constructor(tmp_path: Path) -> None:
    (tmp_path / "odd.py").write_text(
        '@pulumi.type_token("aws:demo/odd:Odd")\nclass Odd(pulumi.CustomResource):\n    pass\n',
        encoding="utf-8",
    )
    with pytest.raises(RuntimeError, match="no _internal_init for aws:demo/odd:Odd"):
        generator.taggable_types_in(tmp_path)
