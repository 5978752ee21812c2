"""Stack configuration, read once into a frozen dataclass and validated with errors that name the key.

Defaults live in Pulumi.yaml (project-level typed config); the CLI merges them with Pulumi.<stack>.yaml before
the program runs, so :func:`parse_config` only sees complete raw values and never invents a default.
Secrets (the SSH private key) are read separately by :func:`load_ssh_private_key` and stay ``Output`` secrets.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pulumi

from infra.render.cloud_init import PAUSE_VERSIONS
from infra.roles import CONTROL_PLANE_ROLE, ROLES, RoleSpec

NAMESPACE = "eco2"

POD_CIDR = ipaddress.IPv4Network("192.168.0.0/16")
"""Calico's default IP pool; must not overlap the VPC."""
SERVICE_CIDR = ipaddress.IPv4Network("10.96.0.0/12")
"""kubeadm's default Service range; must not overlap the VPC either."""

MIN_KUBERNETES_MINOR = 31
"""kubeadm's v1beta4 config API (list-form extraArgs) needs Kubernetes 1.31 or newer."""
MAX_NODES_PER_ROLE = 10

PLAIN_KEYS = (
    "domain",
    "hostedZone",
    "adminCidrs",
    "vpcCidr",
    "kubernetesVersion",
    "nodes",
    "sshUser",
    "sshPublicKey",
    "imageRepository",
    "imageTag",
    "extraCorsOrigins",
    "imageRetentionDays",
    "bucketForceDestroy",
    "workloads",
    "signInClientIds",
    # monitoring (platform/eco2_platform/monitoring.py)
    "prometheusVolumeGiB",
    "prometheusRetentionDays",
)
"""Every non-secret ``eco2:`` key the program reads."""
SSH_PRIVATE_KEY = "sshPrivateKey"

_DNS_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN_RE = re.compile(rf"^(?:{_DNS_LABEL}\.)+[a-z]{{2,63}}$")
_INSTANCE_TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_K8S_VERSION_RE = re.compile(r"^1\.(\d+)\.(\d+)$")
_IMAGE_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_IMAGE_REPOSITORY_RE = re.compile(r"^[a-z0-9.-]+(?::\d+)?(?:/[a-z0-9._-]+)+$")
_SSH_KEY_RE = re.compile(r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$")
_SSH_USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_NODE_POOL_FIELDS = {"instanceType", "count", "rootVolumeGiB"}


class ConfigError(ValueError):
    """A configuration value is missing or invalid; the message starts with the full key."""

    def __init__(self, key: str, message: str) -> None:
        self.key = f"{NAMESPACE}:{key}" if ":" not in key else key
        super().__init__(f"{self.key}: {message}")


@dataclass(frozen=True)
class NodePool:
    """How many nodes of one role, and how big."""

    role: RoleSpec
    instance_type: str
    count: int
    root_volume_gib: int


@dataclass(frozen=True)
class NodeSpec:
    """One EC2 node. ``name`` is also its hostname and Kubernetes node name."""

    name: str
    role: RoleSpec
    instance_type: str
    root_volume_gib: int
    ordinal: int
    """Position among all nodes; spreads nodes round-robin over the availability zones."""

    @property
    def is_control_plane(self) -> bool:
        return self.role.name == CONTROL_PLANE_ROLE


@dataclass(frozen=True)
class WorkloadSizing:
    """How big the cluster's workloads are (``eco2:workloads``): data volumes and replica counts."""

    postgresql_volume_gib: int
    rabbitmq_volume_gib: int
    redis_volume_gib: int
    api_replicas: int
    """Replicas of each API Deployment at rest; the HPA scales between this and ``api_max_replicas``."""
    api_max_replicas: int
    worker_replicas: int
    """Replicas of each Celery worker group (the beat scheduler always runs exactly one)."""


@dataclass(frozen=True)
class MonitoringConfig:
    """kube-prometheus-stack sizing: Prometheus keeps ``retention_days`` of samples on a gp3 volume."""

    prometheus_volume_gib: int
    prometheus_retention_days: int


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    region: str
    domain: str
    hosted_zone: str
    admin_cidrs: tuple[str, ...]
    vpc_cidr: str
    kubernetes_version: str
    node_pools: tuple[NodePool, ...]
    ssh_user: str
    ssh_public_key: str
    image_repository: str
    image_tag: str
    extra_cors_origins: tuple[str, ...]
    image_retention_days: int
    bucket_force_destroy: bool
    workloads: WorkloadSizing
    monitoring: MonitoringConfig
    sign_in_client_ids: Mapping[str, str]
    """OAuth client id by provider (google, kakao, naver); a provider without one is off. The client secrets
    are secret config keys (APP_SECRET_KEYS)."""

    @property
    def name_prefix(self) -> str:
        """Prefix of every physical name, e.g. ``eco2-dev``."""
        return f"{self.project}-{self.stack}"

    @property
    def kubernetes_minor(self) -> str:
        """``1.34`` for ``1.34.2``: the pkgs.k8s.io repository channel."""
        return ".".join(self.kubernetes_version.split(".")[:2])

    @property
    def api_endpoint_name(self) -> str:
        """Public DNS name of the Kubernetes API (an A record on the master's Elastic IP)."""
        return f"k8s.{self.domain}"

    @property
    def app_origins(self) -> tuple[str, ...]:
        """Browser origins allowed to upload images directly to the bucket."""
        return (f"https://{self.domain}", f"https://www.{self.domain}", *self.extra_cors_origins)

    @property
    def image(self) -> str:
        """The single application image; the workloads pick the service by command."""
        return f"{self.image_repository}:{self.image_tag}"

    @property
    def nodes(self) -> tuple[NodeSpec, ...]:
        """Every node, master first, named ``master`` / ``api-1`` / ``async-2`` / ``postgresql`` ..."""
        specs: list[NodeSpec] = []
        for pool in self.node_pools:
            for index in range(1, pool.count + 1):
                name = f"{pool.role.name}-{index}" if pool.role.scalable else pool.role.name
                specs.append(NodeSpec(name, pool.role, pool.instance_type, pool.root_volume_gib, len(specs)))
        return tuple(specs)

    @property
    def control_plane(self) -> NodeSpec:
        return next(node for node in self.nodes if node.is_control_plane)

    @property
    def workers(self) -> tuple[NodeSpec, ...]:
        return tuple(node for node in self.nodes if not node.is_control_plane)


def parse_config(
    raw: Mapping[str, str | None], *, project: str, stack: str, region: str | None
) -> StackConfig:
    """Validate raw config strings (as Pulumi stores them: JSON for arrays/objects) into a StackConfig."""
    reader = _Reader(raw)
    if not region:
        raise ConfigError("aws:region", "is required (pulumi config set aws:region ap-northeast-2)")

    domain = reader.string("domain")
    if not _DOMAIN_RE.match(domain):
        raise ConfigError("domain", f"{domain!r} is not a lower-case DNS name like eco2.example.com")
    hosted_zone = reader.optional_string("hostedZone") or domain
    if domain != hosted_zone and not domain.endswith(f".{hosted_zone}"):
        raise ConfigError("hostedZone", f"domain {domain!r} is not inside hosted zone {hosted_zone!r}")

    return StackConfig(
        project=project,
        stack=stack,
        region=region,
        domain=domain,
        hosted_zone=hosted_zone,
        admin_cidrs=_admin_cidrs(reader),
        vpc_cidr=_vpc_cidr(reader),
        kubernetes_version=_kubernetes_version(reader),
        node_pools=_node_pools(reader),
        ssh_user=reader.matching("sshUser", _SSH_USER_RE, "a Linux user name"),
        ssh_public_key=reader.matching("sshPublicKey", _SSH_KEY_RE, "an OpenSSH public key line"),
        image_repository=reader.matching(
            "imageRepository", _IMAGE_REPOSITORY_RE, "like ghcr.io/org/eco2-api"
        ),
        image_tag=_image_tag(reader),
        extra_cors_origins=_origins(reader),
        image_retention_days=reader.integer("imageRetentionDays", minimum=1, maximum=3650),
        bucket_force_destroy=reader.boolean("bucketForceDestroy"),
        workloads=_workloads(reader),
        sign_in_client_ids=_sign_in_client_ids(reader),
        monitoring=MonitoringConfig(
            prometheus_volume_gib=reader.integer("prometheusVolumeGiB", minimum=5, maximum=1000),
            prometheus_retention_days=reader.integer("prometheusRetentionDays", minimum=1, maximum=365),
        ),
    )


def load_config() -> StackConfig:
    """Read the current stack's configuration once (call from the program, not at import time)."""
    config = pulumi.Config(NAMESPACE)
    raw = {key: config.get(key) for key in PLAIN_KEYS}
    return parse_config(
        raw,
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
        region=pulumi.Config("aws").get("region"),
    )


def load_ssh_private_key() -> pulumi.Output[str]:
    """The SSH private key the remote commands use; it must have been set with ``--secret``."""
    full_key = f"{NAMESPACE}:{SSH_PRIVATE_KEY}"
    if pulumi.runtime.get_config(full_key) is None:  # presence only: never read a secret as plain text
        raise ConfigError(
            SSH_PRIVATE_KEY, f"is required: pulumi config set --secret {full_key} < ~/.ssh/eco2"
        )
    if not pulumi.runtime.is_config_secret(full_key):
        raise ConfigError(SSH_PRIVATE_KEY, f"is stored in plain text: re-set it with --secret ({full_key})")
    return pulumi.Config(NAMESPACE).require_secret(SSH_PRIVATE_KEY)


class _Reader:
    """Typed access to raw config strings; every error names the key."""

    def __init__(self, raw: Mapping[str, str | None]) -> None:
        self._raw = raw

    def optional_string(self, key: str) -> str | None:
        value = self._raw.get(key)
        return value.strip() if value is not None and value.strip() else None

    def string(self, key: str) -> str:
        value = self.optional_string(key)
        if value is None:
            raise ConfigError(key, f"is required (pulumi config set {NAMESPACE}:{key} ...)")
        return value

    def matching(self, key: str, pattern: re.Pattern[str], expected: str) -> str:
        value = self.string(key)
        if not pattern.match(value):
            raise ConfigError(key, f"{_preview(value)} is not {expected}")
        return value

    def json(self, key: str) -> Any:
        value = self.string(key)
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise ConfigError(key, f"is not valid structured config ({error.msg})") from error

    def integer(self, key: str, *, minimum: int, maximum: int) -> int:
        value = self.string(key)
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(key, f"{value!r} is not an integer") from None
        return _in_range(key, number, minimum, maximum)

    def boolean(self, key: str) -> bool:
        value = self.string(key).lower()
        if value not in ("true", "false"):
            raise ConfigError(key, f"{value!r} is not true or false")
        return value == "true"

    def string_list(self, key: str) -> list[str]:
        value = self.json(key)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(key, "must be a list of strings")
        return value


def _preview(value: str) -> str:
    return repr(value if len(value) <= 40 else f"{value[:37]}...")


def _in_range(key: str, number: int, minimum: int, maximum: int) -> int:
    if not minimum <= number <= maximum:
        raise ConfigError(key, f"{number} is outside {minimum}..{maximum}")
    return number


def _admin_cidrs(reader: _Reader) -> tuple[str, ...]:
    cidrs = reader.string_list("adminCidrs")
    if not cidrs:
        raise ConfigError(
            "adminCidrs", "must list at least one CIDR allowed to reach SSH and the Kubernetes API"
        )
    for index, cidr in enumerate(cidrs):
        key = f"adminCidrs[{index}]"
        try:
            network = ipaddress.IPv4Network(cidr, strict=True)
        except ValueError as error:
            raise ConfigError(key, f"{cidr!r} is not an IPv4 CIDR ({error})") from None
        if network.prefixlen < 8:
            raise ConfigError(key, f"{cidr} opens SSH and the Kubernetes API to too much of the internet")
    return tuple(cidrs)


def _vpc_cidr(reader: _Reader) -> str:
    value = reader.string("vpcCidr")
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        raise ConfigError("vpcCidr", f"{value!r} is not an IPv4 CIDR ({error})") from None
    _in_range("vpcCidr", network.prefixlen, 16, 22)
    for name, other in (("Calico pod CIDR", POD_CIDR), ("Kubernetes service CIDR", SERVICE_CIDR)):
        if network.overlaps(other):
            raise ConfigError("vpcCidr", f"{value} overlaps the {name} {other}")
    return value


def _kubernetes_version(reader: _Reader) -> str:
    value = reader.string("kubernetesVersion")
    match = _K8S_VERSION_RE.match(value)
    if not match:
        raise ConfigError("kubernetesVersion", f"{value!r} is not a full version like 1.34.2 (no 'v')")
    if int(match.group(1)) < MIN_KUBERNETES_MINOR:
        raise ConfigError(
            "kubernetesVersion", f"{value} is older than 1.{MIN_KUBERNETES_MINOR} (kubeadm v1beta4)"
        )
    minor = f"1.{match.group(1)}"
    if minor not in PAUSE_VERSIONS:
        raise ConfigError(
            "kubernetesVersion",
            f"{minor} has no pinned pause image yet (known: {', '.join(PAUSE_VERSIONS)}); "
            "add it to PAUSE_VERSIONS in infra/render/cloud_init.py",
        )
    return value


def _node_pools(reader: _Reader) -> tuple[NodePool, ...]:
    value = reader.json("nodes")
    if not isinstance(value, dict):
        raise ConfigError("nodes", "must be an object keyed by role")
    for role in value:
        if role not in ROLES:
            raise ConfigError(f"nodes.{role}", f"unknown role; expected one of {', '.join(ROLES)}")
    pools = []
    for role in ROLES.values():
        if role.name not in value:
            raise ConfigError(f"nodes.{role.name}", f"is missing ({role.purpose} needs a node)")
        pools.append(_node_pool(role, value[role.name]))
    return tuple(pools)


def _node_pool(role: RoleSpec, value: Any) -> NodePool:
    key = f"nodes.{role.name}"
    if not isinstance(value, dict):
        raise ConfigError(key, "must be an object with instanceType, count and rootVolumeGiB")
    for field in value:
        if field not in _NODE_POOL_FIELDS:
            raise ConfigError(
                f"{key}.{field}", f"unknown field; expected {', '.join(sorted(_NODE_POOL_FIELDS))}"
            )
    instance_type = value.get("instanceType")
    if not isinstance(instance_type, str) or not _INSTANCE_TYPE_RE.match(instance_type):
        raise ConfigError(
            f"{key}.instanceType", f"{instance_type!r} is not an EC2 instance type like t3.large"
        )
    count = _pool_int(f"{key}.count", value.get("count", 1), 1, MAX_NODES_PER_ROLE if role.scalable else 1)
    volume = _pool_int(f"{key}.rootVolumeGiB", value.get("rootVolumeGiB", 30), 20, 1000)
    return NodePool(role, instance_type, count, volume)


def _pool_int(key: str, value: Any, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(key, f"{value!r} is not an integer")
    return _in_range(key, value, minimum, maximum)


def _image_tag(reader: _Reader) -> str:
    tag = reader.matching("imageTag", _IMAGE_TAG_RE, "a container image tag")
    if tag == "latest":
        raise ConfigError(
            "imageTag", "'latest' is mutable; pin a release tag or commit SHA so rollouts are explicit"
        )
    return tag


def _origins(reader: _Reader) -> tuple[str, ...]:
    origins = reader.string_list("extraCorsOrigins")
    for index, origin in enumerate(origins):
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
            raise ConfigError(
                f"extraCorsOrigins[{index}]", f"{origin!r} is not an origin like https://host[:port]"
            )
    return tuple(origins)


_WORKLOAD_FIELDS = {
    "postgresqlVolumeGiB": (1, 16384),
    "rabbitmqVolumeGiB": (1, 16384),
    "redisVolumeGiB": (1, 16384),
    "apiReplicas": (1, 20),
    "apiMaxReplicas": (1, 50),
    "workerReplicas": (1, 20),
}


def _sign_in_client_ids(reader: _Reader) -> dict[str, str]:
    value = reader.json("signInClientIds") if reader.optional_string("signInClientIds") else {}
    if not isinstance(value, dict):
        providers = ", ".join(SIGN_IN_PROVIDERS)
        raise ConfigError("signInClientIds", f"must be an object by provider ({providers})")
    for provider, client_id in value.items():
        if provider not in SIGN_IN_PROVIDERS:
            expected = ", ".join(SIGN_IN_PROVIDERS)
            raise ConfigError(f"signInClientIds.{provider}", f"unknown provider; expected {expected}")
        if not isinstance(client_id, str) or not client_id.strip():
            raise ConfigError(f"signInClientIds.{provider}", "must be a non-empty client id")
    return {provider: client_id.strip() for provider, client_id in value.items()}


def _workloads(reader: _Reader) -> WorkloadSizing:
    value = reader.json("workloads")
    if not isinstance(value, dict):
        raise ConfigError("workloads", f"must be an object with {', '.join(_WORKLOAD_FIELDS)}")
    for field in value:
        if field not in _WORKLOAD_FIELDS:
            raise ConfigError(f"workloads.{field}", f"unknown field; expected {', '.join(_WORKLOAD_FIELDS)}")
    numbers: dict[str, int] = {}
    for field, (minimum, maximum) in _WORKLOAD_FIELDS.items():
        if field not in value:
            raise ConfigError(f"workloads.{field}", "is missing")
        numbers[field] = _pool_int(f"workloads.{field}", value[field], minimum, maximum)
    if numbers["apiMaxReplicas"] < numbers["apiReplicas"]:
        raise ConfigError(
            "workloads.apiMaxReplicas",
            f"{numbers['apiMaxReplicas']} is below apiReplicas ({numbers['apiReplicas']})",
        )
    return WorkloadSizing(
        postgresql_volume_gib=numbers["postgresqlVolumeGiB"],
        rabbitmq_volume_gib=numbers["rabbitmqVolumeGiB"],
        redis_volume_gib=numbers["redisVolumeGiB"],
        api_replicas=numbers["apiReplicas"],
        api_max_replicas=numbers["apiMaxReplicas"],
        worker_replicas=numbers["workerReplicas"],
    )


SIGN_IN_PROVIDERS = ("google", "kakao", "naver")
"""Social sign-in providers; each needs its ``signInClientIds`` entry and its ``<provider>ClientSecret``."""
APP_SECRET_KEYS = {
    "openaiApiKey": "ECO2_OPENAI_API_KEY",
    "kakaoRestApiKey": "ECO2_KAKAO_REST_API_KEY",
    **{f"{provider}ClientSecret": f"ECO2_{provider.upper()}_CLIENT_SECRET" for provider in SIGN_IN_PROVIDERS},
}
"""Optional secret config keys of the app (``pulumi config set --secret eco2:<key>``) → the env var that
carries each. An unset key leaves its variable out, so the app uses its offline default."""


def load_app_secrets() -> dict[str, pulumi.Output[str]]:
    """The app's optional third-party keys that are set, by config key; each must be set with --secret."""
    secrets: dict[str, pulumi.Output[str]] = {}
    for key in APP_SECRET_KEYS:
        full_key = f"{NAMESPACE}:{key}"
        if pulumi.runtime.get_config(full_key) is None:  # presence only: never read a secret as plain text
            continue
        if not pulumi.runtime.is_config_secret(full_key):
            raise ConfigError(key, f"is stored in plain text: re-set it with --secret ({full_key})")
        secrets[key] = pulumi.Config(NAMESPACE).require_secret(key)
    return secrets
