"""Stack configuration: both stack files parse, and every kind of bad value fails naming its key."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
import yaml

from infra.config import (
    PLAIN_KEYS,
    SSH_PRIVATE_KEY,
    ConfigError,
    StackConfig,
    load_ssh_private_key,
    parse_config,
)
from infra.roles import ROLES
from tools.plan.harness import ProgramFailed, execute
from tools.plan.stack_runner import REPO_ROOT, stack_config


def raw_config(stack: str) -> dict[str, str]:
    return {
        key.split(":", 1)[1]: value for key, value in stack_config(stack).items() if key.startswith("eco2:")
    }


def parse(raw: dict[str, str], stack: str = "dev") -> StackConfig:
    return parse_config(raw, project="eco2", stack=stack, region="ap-northeast-2")


def with_nodes(change: Callable[[dict[str, Any]], object]) -> dict[str, str]:
    raw = raw_config("dev")
    nodes = json.loads(raw["nodes"])
    change(nodes)
    raw["nodes"] = json.dumps(nodes)
    return raw


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_files_parse_into_seven_nodes(stack):
    config = parse(raw_config(stack), stack)
    assert config.region == "ap-northeast-2"
    assert [node.name for node in config.nodes] == [
        "master",
        "api-1",
        "async-1",
        "monitoring",
        "postgresql",
        "rabbitmq",
        "redis",
    ]
    assert config.control_plane.name == "master"
    assert len(config.workers) == 6
    assert config.image.startswith("ghcr.io/") and not config.image.endswith(":latest")


def test_dev_adds_the_local_frontend_origin_only_in_dev():
    dev, prod = parse(raw_config("dev")), parse(raw_config("prod"), "prod")
    assert dev.app_origins == (
        "https://dev.eco2.example.com",
        "https://www.dev.eco2.example.com",
        "http://localhost:5173",
    )
    assert prod.app_origins == ("https://eco2.example.com", "https://www.eco2.example.com")


def test_scalable_roles_grow_by_config():
    config = parse(with_nodes(lambda nodes: nodes["api"].update(count=2)))
    assert [node.name for node in config.nodes if node.role.name == "api"] == ["api-1", "api-2"]
    assert len(config.nodes) == 8


ERRORS = [
    ("missing domain", lambda raw: raw.pop("domain"), "eco2:domain: is required"),
    ("blank domain", lambda raw: raw.update(domain="  "), "eco2:domain: is required"),
    ("bad domain", lambda raw: raw.update(domain="Eco2_App"), "eco2:domain: 'Eco2_App' is not"),
    ("zone outside", lambda raw: raw.update(hostedZone="other.org"), "eco2:hostedZone: domain"),
    (
        "bad cidr",
        lambda raw: raw.update(adminCidrs='["10.0.0.300/32"]'),
        "eco2:adminCidrs[0]: '10.0.0.300/32'",
    ),
    ("host bits", lambda raw: raw.update(adminCidrs='["203.0.113.5/24"]'), "eco2:adminCidrs[0]:"),
    ("world", lambda raw: raw.update(adminCidrs='["0.0.0.0/0"]'), "eco2:adminCidrs[0]: 0.0.0.0/0 opens"),
    ("no admins", lambda raw: raw.update(adminCidrs="[]"), "eco2:adminCidrs: must list"),
    ("not a list", lambda raw: raw.update(adminCidrs='"1.2.3.4/32"'), "eco2:adminCidrs: must be a list"),
    ("broken json", lambda raw: raw.update(adminCidrs="[1.2"), "eco2:adminCidrs: is not valid"),
    ("vpc overlaps pods", lambda raw: raw.update(vpcCidr="192.168.0.0/16"), "eco2:vpcCidr: 192.168.0.0/16"),
    ("vpc overlaps services", lambda raw: raw.update(vpcCidr="10.96.0.0/16"), "Kubernetes service CIDR"),
    ("vpc too small", lambda raw: raw.update(vpcCidr="10.0.0.0/24"), "eco2:vpcCidr: 24 is outside 16..22"),
    ("old kubernetes", lambda raw: raw.update(kubernetesVersion="1.29.4"), "eco2:kubernetesVersion: 1.29.4"),
    ("v prefix", lambda raw: raw.update(kubernetesVersion="v1.34.2"), "eco2:kubernetesVersion: 'v1.34.2'"),
    ("latest tag", lambda raw: raw.update(imageTag="latest"), "eco2:imageTag: 'latest' is mutable"),
    ("bad tag", lambda raw: raw.update(imageTag="-x"), "eco2:imageTag:"),
    (
        "bad origin",
        lambda raw: raw.update(extraCorsOrigins='["localhost:5173/app"]'),
        "eco2:extraCorsOrigins[0]",
    ),
    ("bad key", lambda raw: raw.update(sshPublicKey="AAAA"), "eco2:sshPublicKey: 'AAAA' is not"),
    ("retention", lambda raw: raw.update(imageRetentionDays="0"), "eco2:imageRetentionDays: 0 is outside"),
    ("retention text", lambda raw: raw.update(imageRetentionDays="week"), "eco2:imageRetentionDays: 'week'"),
    ("force destroy", lambda raw: raw.update(bucketForceDestroy="yes"), "eco2:bucketForceDestroy: 'yes'"),
    (
        "no pause image",
        lambda raw: raw.update(kubernetesVersion="1.99.0"),
        "eco2:kubernetesVersion: 1.99 has no pinned pause image",
    ),
    (
        "tiny prometheus",
        lambda raw: raw.update(prometheusVolumeGiB="1"),
        "eco2:prometheusVolumeGiB: 1 is outside",
    ),
    (
        "prometheus retention",
        lambda raw: raw.update(prometheusRetentionDays="forever"),
        "eco2:prometheusRetentionDays: 'forever'",
    ),
    (
        "unknown sign-in provider",
        lambda raw: raw.update(signInClientIds='{"facebook": "id"}'),
        "eco2:signInClientIds.facebook: unknown provider",
    ),
    (
        "empty sign-in client id",
        lambda raw: raw.update(signInClientIds='{"google": " "}'),
        "eco2:signInClientIds.google: must be a non-empty client id",
    ),
    ("nodes missing", lambda raw: raw.pop("nodes"), "eco2:nodes: is required"),
    ("nodes not object", lambda raw: raw.update(nodes="[]"), "eco2:nodes: must be an object"),
]

NODE_ERRORS = [
    (
        "unknown role",
        lambda nodes: nodes.update(gpu={"instanceType": "g5.xlarge"}),
        "eco2:nodes.gpu: unknown role",
    ),
    ("missing role", lambda nodes: nodes.pop("redis"), "eco2:nodes.redis: is missing"),
    (
        "bad type",
        lambda nodes: nodes["api"].update(instanceType="large"),
        "eco2:nodes.api.instanceType: 'large'",
    ),
    ("no type", lambda nodes: nodes["api"].pop("instanceType"), "eco2:nodes.api.instanceType: None"),
    (
        "two masters",
        lambda nodes: nodes["master"].update(count=2),
        "eco2:nodes.master.count: 2 is outside 1..1",
    ),
    ("two databases", lambda nodes: nodes["postgresql"].update(count=2), "eco2:nodes.postgresql.count: 2"),
    ("zero api", lambda nodes: nodes["api"].update(count=0), "eco2:nodes.api.count: 0 is outside 1..10"),
    (
        "count text",
        lambda nodes: nodes["api"].update(count="2"),
        "eco2:nodes.api.count: '2' is not an integer",
    ),
    ("tiny disk", lambda nodes: nodes["redis"].update(rootVolumeGiB=8), "eco2:nodes.redis.rootVolumeGiB: 8"),
    (
        "typo",
        lambda nodes: nodes["api"].update(instancetype="t3.large"),
        "eco2:nodes.api.instancetype: unknown",
    ),
    ("not object", lambda nodes: nodes.update(api="t3.large"), "eco2:nodes.api: must be an object"),
]


@pytest.mark.parametrize(("change", "message"), [(c, m) for _, c, m in ERRORS], ids=[e[0] for e in ERRORS])
def test_invalid_values_name_their_key(change, message):
    raw = raw_config("dev")
    change(raw)
    with pytest.raises(ConfigError) as error:
        parse(raw)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("change", "message"), [(c, m) for _, c, m in NODE_ERRORS], ids=[e[0] for e in NODE_ERRORS]
)
def test_invalid_node_pools_name_their_key(change, message):
    with pytest.raises(ConfigError) as error:
        parse(with_nodes(change))
    assert message in str(error.value)


def test_region_is_required():
    with pytest.raises(ConfigError, match="aws:region: is required"):
        parse_config(raw_config("dev"), project="eco2", stack="dev", region=None)


def test_every_role_is_configurable():
    assert set(json.loads(raw_config("prod")["nodes"])) == set(ROLES)


@pytest.fixture
def restore_config():
    yield
    pulumi.runtime.set_all_config({}, secret_keys=[])


def test_ssh_private_key_must_be_set(restore_config):
    pulumi.runtime.set_all_config({}, secret_keys=[])
    with pytest.raises(ConfigError, match=r"eco2:sshPrivateKey: is required: pulumi config set --secret"):
        load_ssh_private_key()


def test_ssh_private_key_must_be_a_secret(restore_config):
    pulumi.runtime.set_all_config({"eco2:sshPrivateKey": "-----BEGIN KEY-----"}, secret_keys=[])
    with pytest.raises(ConfigError, match=r"eco2:sshPrivateKey: is stored in plain text"):
        load_ssh_private_key()


def test_the_program_stops_on_a_missing_domain_naming_the_key():
    with pytest.raises(ProgramFailed) as failure:
        execute("dev", {"eco2:domain": None})
    assert "ConfigError: eco2:domain: is required" in failure.value.stderr


def test_the_program_stops_on_an_unknown_node_role():
    nodes = json.loads(stack_config("prod")["eco2:nodes"])
    nodes["gpu"] = {"instanceType": "g5.xlarge"}
    with pytest.raises(ProgramFailed) as failure:
        execute("prod", {"eco2:nodes": json.dumps(nodes)})
    assert "eco2:nodes.gpu: unknown role" in failure.value.stderr


def test_project_file_declares_every_plain_key_the_program_reads():
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    # Structured objects (nodes, workloads, signInClientIds): typed project config covers scalars and arrays.
    assert set(project["config"]) == set(PLAIN_KEYS) - {"nodes", "workloads", "signInClientIds"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_files_hold_no_secret_in_plain_text(stack):
    text = (REPO_ROOT / f"Pulumi.{stack}.yaml").read_text()
    assert "PRIVATE KEY" not in text
    # Once set with --secret, the key is stored encrypted (`secure: v1:...`), never as a plain string.
    value = yaml.safe_load(text)["config"].get(f"eco2:{SSH_PRIVATE_KEY}")
    assert value is None or (isinstance(value, dict) and set(value) == {"secure"})
