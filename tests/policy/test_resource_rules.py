"""Each resource rule against a compliant and a violating resource: the report names the exact problem."""

from __future__ import annotations

import json
from typing import Any

import eco2_policies as pack
import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from tools.plan.policy import provider, validate_resource

INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
VOLUME = "aws:ebs/volume:Volume"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LISTENER = "aws:lb/listener:Listener"

TAGS = {"Project": "eco2", "Stack": "dev", "ManagedBy": "pulumi"}
ENCRYPTED_ROOT = {"encrypted": True, "volumeType": "gp3", "volumeSize": 30}
IMDSV2 = {"httpTokens": "required", "httpEndpoint": "enabled", "httpPutResponseHopLimit": 2}


def instance(**overrides: Any) -> dict[str, Any]:
    """A compliant node, as the program declares it; each case breaks one thing."""
    return {
        "ami": "ami-0eco2ubuntu24040",
        "instanceType": "t3.large",
        "metadataOptions": IMDSV2,
        "rootBlockDevice": ENCRYPTED_ROOT,
        "tags": TAGS,
        **overrides,
    }


def launch_template(**overrides: Any) -> dict[str, Any]:
    return {
        "imageId": "ami-0eco2ubuntu24040",
        "metadataOptions": IMDSV2,
        "blockDeviceMappings": [{"deviceName": "/dev/sda1", "ebs": {"encrypted": "true", "volumeSize": 30}}],
        "tags": TAGS,
        **overrides,
    }


def sg_ingress(protocol: str, from_port: float, to_port: float, **sources: Any) -> dict[str, Any]:
    return {
        "vpcId": "vpc-1",
        "ingress": [{"protocol": protocol, "fromPort": from_port, "toPort": to_port, **sources}],
        "tags": TAGS,
    }


def ingress_rule(
    protocol: str, from_port: float | None, to_port: float | None, **cidr: str
) -> dict[str, Any]:
    rule: dict[str, Any] = {"securityGroupId": "sg-1", "ipProtocol": protocol, "tags": TAGS, **cidr}
    if from_port is not None:
        rule |= {"fromPort": from_port, "toPort": to_port}
    return rule


def sg_rule(type_: str, protocol: str, from_port: int, to_port: int, cidrs: list[str]) -> dict[str, Any]:
    return {
        "type": type_,
        "securityGroupId": "sg-1",
        "protocol": protocol,
        "fromPort": from_port,
        "toPort": to_port,
        "cidrBlocks": cidrs,
    }


def listener(protocol: str, ssl_policy: str | None) -> dict[str, Any]:
    props: dict[str, Any] = {"loadBalancerArn": "arn:lb", "port": 443, "protocol": protocol, "tags": TAGS}
    if ssl_policy is not None:
        props["sslPolicy"] = ssl_policy
    return props


CASES = [
    # IMDSv2 -------------------------------------------------------------------------------------------
    pytest.param(pack.IMDSV2_REQUIRED, INSTANCE, instance(), None, id="imds-instance-required"),
    pytest.param(pack.IMDSV2_REQUIRED, LAUNCH_TEMPLATE, launch_template(), None, id="imds-template-required"),
    pytest.param(
        pack.IMDSV2_REQUIRED,
        INSTANCE,
        instance(metadataOptions={"httpEndpoint": "disabled"}),
        None,
        id="imds-endpoint-disabled",
    ),
    pytest.param(
        pack.IMDSV2_REQUIRED,
        INSTANCE,
        instance(metadataOptions={"httpTokens": "optional"}),
        ["ec2.Instance 'subject'", "metadataOptions.httpTokens is 'optional'", "'required'"],
        id="imds-instance-optional",
    ),
    pytest.param(
        pack.IMDSV2_REQUIRED,
        INSTANCE,
        {k: v for k, v in instance().items() if k != "metadataOptions"},
        ["metadataOptions.httpTokens is None"],
        id="imds-instance-unset",
    ),
    pytest.param(
        pack.IMDSV2_REQUIRED,
        LAUNCH_TEMPLATE,
        launch_template(metadataOptions={"httpTokens": "optional", "httpEndpoint": "enabled"}),
        ["ec2.LaunchTemplate 'subject'", "httpTokens is 'optional'"],
        id="imds-template-optional",
    ),
    # encrypted volumes --------------------------------------------------------------------------------
    pytest.param(
        pack.EBS_ENCRYPTED,
        INSTANCE,
        instance(ebsBlockDevices=[{"deviceName": "/dev/sdf", "encrypted": True}]),
        None,
        id="ebs-instance-encrypted",
    ),
    pytest.param(
        pack.EBS_ENCRYPTED,
        INSTANCE,
        instance(rootBlockDevice={"encrypted": False, "volumeType": "gp3"}),
        ["rootBlockDevice.encrypted is False"],
        id="ebs-instance-root-plain",
    ),
    pytest.param(
        pack.EBS_ENCRYPTED,
        INSTANCE,
        {k: v for k, v in instance().items() if k != "rootBlockDevice"},
        ["no rootBlockDevice is declared"],
        id="ebs-instance-root-undeclared",
    ),
    pytest.param(
        pack.EBS_ENCRYPTED,
        INSTANCE,
        instance(
            ebsBlockDevices=[
                {"deviceName": "/dev/sdf", "encrypted": True},
                {"deviceName": "/dev/sdg", "volumeSize": 100},
            ]
        ),
        ["ebsBlockDevices[1] (/dev/sdg) has encrypted None"],
        id="ebs-instance-data-plain",
    ),
    pytest.param(
        pack.EBS_ENCRYPTED,
        LAUNCH_TEMPLATE,
        launch_template(
            blockDeviceMappings=[
                {"deviceName": "/dev/sdb", "virtualName": "ephemeral0"},
                {"deviceName": "/dev/sda1", "ebs": {"encrypted": "true"}},
            ]
        ),
        None,
        id="ebs-template-encrypted-with-instance-store",
    ),
    pytest.param(
        pack.EBS_ENCRYPTED,
        LAUNCH_TEMPLATE,
        launch_template(blockDeviceMappings=[{"deviceName": "/dev/sda1", "ebs": {"encrypted": "false"}}]),
        ["blockDeviceMappings[0] (/dev/sda1) has ebs.encrypted 'false'"],
        id="ebs-template-plain",
    ),
    pytest.param(
        pack.EBS_ENCRYPTED,
        LAUNCH_TEMPLATE,
        {k: v for k, v in launch_template().items() if k != "blockDeviceMappings"},
        ["no blockDeviceMappings with an ebs block"],
        id="ebs-template-unmapped",
    ),
    pytest.param(
        pack.EBS_ENCRYPTED, VOLUME, {"size": 20, "encrypted": True}, None, id="ebs-volume-encrypted"
    ),
    pytest.param(
        pack.EBS_ENCRYPTED,
        VOLUME,
        {"size": 20, "availabilityZone": "ap-northeast-2a"},
        ["ebs.Volume 'subject': encrypted is None"],
        id="ebs-volume-plain",
    ),
    # world ingress ------------------------------------------------------------------------------------
    pytest.param(
        pack.NO_WORLD_ADMIN_INGRESS,
        SECURITY_GROUP,
        {
            "ingress": [
                {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]},
                {"protocol": "tcp", "fromPort": 80.0, "toPort": 80.0, "ipv6CidrBlocks": ["::/0"]},
            ]
        },
        None,
        id="world-http-https-only",
    ),
    pytest.param(
        pack.NO_WORLD_ADMIN_INGRESS,
        SECURITY_GROUP,
        sg_ingress("tcp", 22, 22, cidrBlocks=["10.0.0.0/16", "203.0.113.7/32"]),
        None,
        id="world-ssh-from-admin-cidr",
    ),
    pytest.param(
        pack.NO_WORLD_ADMIN_INGRESS,
        SECURITY_GROUP,
        sg_ingress("-1", 0, 0, securityGroups=["sg-alb"]),
        None,
        id="world-all-from-security-group",
    ),
    pytest.param(
        pack.NO_WORLD_ADMIN_INGRESS,
        SECURITY_GROUP,
        sg_ingress("tcp", 22, 22, cidrBlocks=["10.0.0.0/16", "0.0.0.0/0"]),
        ["ec2.SecurityGroup 'subject': ingress[0] opens tcp 22 (SSH) to 0.0.0.0/0", "tcp 80 and tcp 443"],
        id="world-ssh",
    ),
    pytest.param(
        pack.NO_WORLD_ADMIN_INGRESS,
        SECURITY_GROUP,
        sg_ingress("-1", 0, 0, ipv6CidrBlocks=["::/0"]),
        ["ingress[0] opens all protocols and ports to ::/0"],
        id="world-all-ipv6",
    ),
    pytest.param(
        pack.NO_WORLD_ADMIN_INGRESS,
        SECURITY_GROUP,
        sg_ingress("tcp", 80, 443, cidrBlocks=["0.0.0.0/0"]),
        ["opens tcp 80-443 to 0.0.0.0/0"],
        id="world-http-to-https-range",
    ),
    pytest.param(
        pack.NO_WORLD_ADMIN_INGRESS,
        SECURITY_GROUP,
        sg_ingress("udp", 443, 443, cidrBlocks=["0.0.0.0/0"]),
        ["opens udp 443 to 0.0.0.0/0"],
        id="world-udp-443",
    ),
    pytest.param(
        pack.NO_WORLD_ADMIN_INGRESS,
        SG_RULE,
        sg_rule("egress", "-1", 0, 0, ["0.0.0.0/0"]),
        None,
        id="world-egress-rule-ignored",
    ),
    pytest.param(
        pack.NO_WORLD_ADMIN_INGRESS,
        SG_RULE,
        sg_rule("ingress", "6", 6443, 6443, ["0.0.0.0/0"]),
        ["ec2.SecurityGroupRule 'subject': rule opens tcp 6443 (Kubernetes API server) to 0.0.0.0/0"],
        id="world-kube-api-rule",
    ),
    pytest.param(
        pack.NO_WORLD_ADMIN_INGRESS,
        INGRESS_RULE,
        ingress_rule("tcp", 443, 443, cidrIpv4="0.0.0.0/0"),
        None,
        id="world-https-ingress-rule",
    ),
    pytest.param(
        pack.NO_WORLD_ADMIN_INGRESS,
        INGRESS_RULE,
        ingress_rule("tcp", 2379.0, 2380.0, cidrIpv4="0.0.0.0/0"),
        ["opens tcp 2379-2380 (includes etcd client 2379, etcd peer 2380) to 0.0.0.0/0"],
        id="world-etcd-ingress-rule",
    ),
    pytest.param(
        pack.NO_WORLD_ADMIN_INGRESS,
        INGRESS_RULE,
        ingress_rule("tcp", 10250, 10250, cidrIpv6="::0/0"),
        ["opens tcp 10250 (kubelet API) to ::0/0"],
        id="world-kubelet-ipv6-spelling",
    ),
    pytest.param(
        pack.NO_WORLD_ADMIN_INGRESS,
        INGRESS_RULE,
        ingress_rule("-1", None, None, cidrIpv4="0.0.0.0/0"),
        ["vpc.SecurityGroupIngressRule 'subject': rule opens all protocols and ports to 0.0.0.0/0"],
        id="world-all-ingress-rule",
    ),
    # TLS policy on HTTPS listeners --------------------------------------------------------------------
    pytest.param(
        pack.LISTENER_TLS13,
        LISTENER,
        listener("HTTPS", "ELBSecurityPolicy-TLS13-1-2-2021-06"),
        None,
        id="tls-https-tls13",
    ),
    pytest.param(pack.LISTENER_TLS13, LISTENER, listener("HTTP", None), None, id="tls-http-redirect"),
    pytest.param(
        pack.LISTENER_TLS13,
        "aws:alb/listener:Listener",
        listener("TLS", "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04"),
        None,
        id="tls-tls-fips",
    ),
    pytest.param(
        pack.LISTENER_TLS13,
        LISTENER,
        listener("HTTPS", None),
        ["lb.Listener 'subject': HTTPS listener has sslPolicy None", "ELBSecurityPolicy-TLS13-1-2-2021-06"],
        id="tls-https-default-policy",
    ),
    pytest.param(
        pack.LISTENER_TLS13,
        LISTENER,
        listener("HTTPS", "ELBSecurityPolicy-2016-08"),
        ["sslPolicy 'ELBSecurityPolicy-2016-08'"],
        id="tls-https-2016",
    ),
    pytest.param(
        pack.LISTENER_TLS13,
        LISTENER,
        listener("HTTPS", "ELBSecurityPolicy-TLS13-1-0-2021-06"),
        ["sslPolicy 'ELBSecurityPolicy-TLS13-1-0-2021-06'"],
        id="tls-https-tls13-with-tls10-floor",
    ),
    # required tags ------------------------------------------------------------------------------------
    pytest.param(pack.REQUIRED_TAGS, INSTANCE, instance(), None, id="tags-complete"),
    pytest.param(
        pack.REQUIRED_TAGS,
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        {"subnetId": "subnet-1", "routeTableId": "rtb-1"},
        None,
        id="tags-untaggable-type",
    ),
    pytest.param(
        pack.REQUIRED_TAGS,
        INSTANCE,
        instance(tags={"Project": "eco2", "ManagedBy": "pulumi"}),
        ["ec2.Instance 'subject': missing required tag(s) Stack;"],
        id="tags-missing-stack",
    ),
    pytest.param(
        pack.REQUIRED_TAGS,
        INSTANCE,
        instance(tags={**TAGS, "ManagedBy": " "}),
        ["missing required tag(s) ManagedBy;"],
        id="tags-blank-value",
    ),
    pytest.param(
        pack.REQUIRED_TAGS,
        SECURITY_GROUP,
        {"vpcId": "vpc-1"},
        ["ec2.SecurityGroup 'subject': missing required tag(s) Project, Stack, ManagedBy;"],
        id="tags-none",
    ),
]


@pytest.mark.parametrize(("policy", "type_", "props", "expected"), CASES)
def test_resource_rule(
    policy: ResourceValidationPolicy, type_: str, props: dict[str, Any], expected: list[str] | None
) -> None:
    messages = validate_resource(policy, type_, props)
    if expected is None:
        assert messages == []
    else:
        assert len(messages) == 1, messages
        for fragment in expected:
            assert fragment in messages[0]


def test_every_resource_rule_has_a_passing_and_a_failing_case() -> None:
    outcomes: dict[str, set[bool]] = {}
    for case in CASES:
        policy, _type, _props, expected = case.values
        assert isinstance(policy, ResourceValidationPolicy)
        outcomes.setdefault(policy.name, set()).add(expected is None)
    assert outcomes == {policy.name: {True, False} for policy in pack.RESOURCE_POLICIES}


def test_one_message_per_violating_ingress_permission() -> None:
    props = {
        "ingress": [
            {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]},
            {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]},
            {"protocol": "tcp", "fromPort": 0, "toPort": 65535, "ipv6CidrBlocks": ["::/0"]},
        ]
    }
    messages = validate_resource(pack.NO_WORLD_ADMIN_INGRESS, SECURITY_GROUP, props)
    assert [message.split(" opens ")[0] for message in messages] == [
        "ec2.SecurityGroup 'subject': ingress[0]",
        "ec2.SecurityGroup 'subject': ingress[2]",
    ]
    assert "tcp 0-65535 (includes SSH 22, etcd client 2379, etcd peer 2380" in messages[1]


@pytest.mark.parametrize(
    "default_tags",
    [
        pytest.param(json.dumps({"tags": TAGS}), id="as-the-sdk-sends-it"),
        pytest.param({"tags": TAGS}, id="object"),
    ],
)
def test_tags_may_come_from_the_provider_default_tags(default_tags: object) -> None:
    aws = provider("pulumi:providers:aws", "apne2", {"region": "ap-northeast-2", "defaultTags": default_tags})
    assert validate_resource(pack.REQUIRED_TAGS, INSTANCE, instance(tags={}), provider_resource=aws) == []


def test_provider_default_tags_are_overlaid_by_resource_tags() -> None:
    partial = provider("pulumi:providers:aws", "apne2", {"defaultTags": '{"tags": {"Project": "eco2"}}'})
    messages = validate_resource(
        pack.REQUIRED_TAGS,
        INSTANCE,
        instance(tags={"Stack": "dev", "Project": ""}),
        provider_resource=partial,
    )
    assert len(messages) == 1
    assert "missing required tag(s) Project, ManagedBy;" in messages[0]


def test_malformed_provider_default_tags_contribute_nothing() -> None:
    broken = provider("pulumi:providers:aws", "apne2", {"defaultTags": "{not json"})
    messages = validate_resource(pack.REQUIRED_TAGS, INSTANCE, instance(tags={}), provider_resource=broken)
    assert len(messages) == 1
    assert "missing required tag(s) Project, Stack, ManagedBy;" in messages[0]


def test_required_tags_follow_the_policy_config() -> None:
    config = {"requiredTags": ["Project", "Owner"]}
    messages = validate_resource(pack.REQUIRED_TAGS, INSTANCE, instance(), config=config)
    assert len(messages) == 1
    assert "missing required tag(s) Owner;" in messages[0]


@pytest.mark.parametrize("configured", [[], "Project", ["Project", ""], [3]])
def test_invalid_required_tags_config_is_a_clear_error(configured: object) -> None:
    with pytest.raises(ValueError, match="requiredTags must be a non-empty list of non-empty tag keys"):
        validate_resource(pack.REQUIRED_TAGS, INSTANCE, instance(), config={"requiredTags": configured})


def test_unknown_value_in_preview_is_left_to_the_engine() -> None:
    """During preview an unknown input raises, and the analyzer turns that into an advisory note."""
    props = instance(metadataOptions={"httpTokens": UNKNOWN_STRING_VALUE})
    with pytest.raises(UnknownValueError) as raised:
        validate_resource(pack.IMDSV2_REQUIRED, INSTANCE, props)
    assert raised.value.message == "string value at .metadataOptions.httpTokens can't be known during preview"


def test_pack_levels_and_names() -> None:
    names = [policy.name for policy in pack.ALL_POLICIES]
    assert len(names) == len(set(names)) == 8
    levels = {policy.name: policy.enforcement_level for policy in pack.ALL_POLICIES}
    assert levels.pop("aws-required-tags") is EnforcementLevel.ADVISORY
    assert set(levels.values()) == {EnforcementLevel.MANDATORY}
