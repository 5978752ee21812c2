"""``eco2:platform:DataServices``: PostgreSQL, Redis and RabbitMQ, their generated credentials and Secrets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from eco2_platform.data.endpoints import DATABASE_NAME, POSTGRESQL, RABBITMQ, RABBITMQ_VHOST, REDIS
from eco2_platform.data.statefulset import DataServiceSpec, data_service
from eco2_platform.namespaces import DATA_NAMESPACE
from eco2_platform.workloads import pods
from infra.config import WorkloadSizing

POSTGRESQL_IMAGE = "docker.io/library/postgres:17.6-bookworm"
POSTGRES_EXPORTER_IMAGE = "quay.io/prometheuscommunity/postgres-exporter:v0.17.1"
REDIS_IMAGE = "docker.io/library/redis:7.4.5-bookworm"
REDIS_EXPORTER_IMAGE = "quay.io/oliver006/redis_exporter:v1.74.0"
RABBITMQ_IMAGE = "docker.io/library/rabbitmq:4.1.4"
"""RabbitMQ 4.1: quorum queues with delivery limits; rabbitmq_prometheus is part of the distribution."""
DATA_IMAGES: dict[str, tuple[str, ...]] = {
    POSTGRESQL.name: (POSTGRESQL_IMAGE, POSTGRES_EXPORTER_IMAGE),
    REDIS.name: (REDIS_IMAGE, REDIS_EXPORTER_IMAGE),
    RABBITMQ.name: (RABBITMQ_IMAGE,),
}
"""Node role (= service name) → every image its StatefulSet runs: the cluster pulls them on that node while
the control plane comes up (``Cluster.images_pulled``), so the pod starts without a pull."""
IMAGE_UID = 999
"""The ``postgres``, ``redis`` and ``rabbitmq`` users of the official images."""
POSTGRES_EXPORTER_UID = 65534
REDIS_EXPORTER_UID = 59000
PASSWORD_KEY = "password"  # noqa: S105 -- the name of the Secret key
PASSWORD_LENGTH = 40
REDIS_MAX_MEMORY = "384mb"
RABBITMQ_RESOURCES = pods.Resources("250m", "512Mi", "1", "1Gi")
RABBITMQ_MEMORY_LIMIT_BYTES = 1024**3
"""= RABBITMQ_RESOURCES' memory limit: the memory alarm must trip before the OOM killer does."""

EXPORTER_RESOURCES = pods.Resources("20m", "32Mi", "200m", "128Mi")


@dataclass(frozen=True)
class DataServicesArgs:
    sizing: WorkloadSizing
    provider: k8s.Provider
    namespace: k8s.core.v1.Namespace
    scheduling_ready: Sequence[pulumi.Resource]
    """What every scheduled pod waits for (the CNI)."""
    storage_ready: Sequence[pulumi.Resource]
    """The EBS CSI driver and the gp3 StorageClass the claims use."""
    images_pulled: Mapping[str, Sequence[pulumi.Resource]]
    """Role → the steps that pulled ``DATA_IMAGES`` on its node (``Cluster.images_pulled``)."""


class DataServices(pulumi.ComponentResource):
    passwords: dict[str, pulumi.Output[str]]
    """Generated secret passwords by service name (postgresql, redis, rabbitmq)."""
    statefulsets: list[k8s.apps.v1.StatefulSet]

    def __init__(self, name: str, args: DataServicesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eco2:platform:DataServices", name, None, opts)
        opts_k8s = pods.child_options(
            self, args.provider, [args.namespace, *args.scheduling_ready, *args.storage_ready]
        )
        self.passwords = {}
        secrets: dict[str, k8s.core.v1.Secret] = {}
        for endpoint in (POSTGRESQL, REDIS, RABBITMQ):
            password = random.RandomPassword(
                f"{endpoint.name}-password",
                length=PASSWORD_LENGTH,
                special=False,  # goes into URLs and config files unquoted
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.passwords[endpoint.name] = password.result
            secrets[endpoint.name] = k8s.core.v1.Secret(
                f"{endpoint.name}-credentials",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=f"{endpoint.name}-credentials", namespace=DATA_NAMESPACE
                ),
                type="Opaque",
                string_data=_credential_files(endpoint.name, password.result),
                opts=pods.child_options(self, args.provider, [args.namespace]),
            )

        specs = (
            _postgresql(args.sizing, secrets["postgresql"]),
            _redis(args.sizing, secrets["redis"]),
            _rabbitmq(args.sizing, secrets["rabbitmq"]),
        )
        self.statefulsets = [
            data_service(
                spec,
                opts_k8s.merge(
                    pulumi.ResourceOptions(
                        depends_on=[
                            secrets[spec.endpoint.name],
                            *args.images_pulled.get(spec.endpoint.name, ()),
                        ]
                    )
                ),
            )[0]
            for spec in specs
        ]
        self.register_outputs({"statefulsets": [s.metadata.name for s in self.statefulsets]})


def _credential_files(service: str, password: pulumi.Output[str]) -> pulumi.Output[dict[str, str]]:
    """The Secret's keys: the password itself, plus the config file that embeds it (Redis, RabbitMQ)."""

    def files(value: str) -> dict[str, str]:
        data = {PASSWORD_KEY: value}
        if service == "redis":
            data["auth.conf"] = f"requirepass {value}\n"
        if service == "rabbitmq":
            data["rabbitmq.conf"] = rabbitmq_conf(value)
            data["enabled_plugins"] = "[rabbitmq_prometheus].\n"
        return data

    return pulumi.Output.secret(password.apply(files))


def rabbitmq_conf(password: str) -> str:
    """RabbitMQ's configuration; the default user is created on the first boot only."""
    return "\n".join(
        [
            f"listeners.tcp.default = {RABBITMQ.port}",
            f"prometheus.tcp.port = {RABBITMQ.metrics_port}",
            # Per-queue series on /metrics: the queue-depth panels and the dead-letter alert need them.
            "prometheus.return_per_object_metrics = true",
            "loopback_users.guest = true",
            f"default_vhost = {RABBITMQ_VHOST}",
            f"default_user = {RABBITMQ.user}",
            f"default_pass = {password}",
            "default_user_tags.administrator = true",
            "default_permissions.configure = .*",
            "default_permissions.read = .*",
            "default_permissions.write = .*",
            "log.console = true",
            "log.console.level = info",
            "log.file = false",
            f"total_memory_available_override_value = {RABBITMQ_MEMORY_LIMIT_BYTES}",
            "vm_memory_high_watermark.relative = 0.6",
            "disk_free_limit.absolute = 1GB",
            "",
        ]
    )


def _secret_volume(name: str, secret: k8s.core.v1.Secret, keys: Sequence[str]) -> k8s.core.v1.VolumeArgs:
    return k8s.core.v1.VolumeArgs(
        name=name,
        secret=k8s.core.v1.SecretVolumeSourceArgs(
            secret_name=secret.metadata.name,
            items=[k8s.core.v1.KeyToPathArgs(key=key, path=key) for key in keys],
            default_mode=0o440,
        ),
    )


def _exporter(
    image: str, uid: int, port: int, env: Sequence[k8s.core.v1.EnvVarArgs]
) -> k8s.core.v1.ContainerArgs:
    """A Prometheus exporter sidecar that reads its server over the pod's loopback."""
    health = pods.http_probe("/", "metrics", period=30, timeout=5, failures=3)
    return k8s.core.v1.ContainerArgs(
        name="exporter",
        image=image,
        env=list(env),
        ports=[k8s.core.v1.ContainerPortArgs(name="metrics", container_port=port)],
        resources=EXPORTER_RESOURCES.args(),
        security_context=pods.container_security(uid),
        readiness_probe=health,
        liveness_probe=health,
    )


def _postgresql(sizing: WorkloadSizing, secret: k8s.core.v1.Secret) -> DataServiceSpec:
    password = pods.secret_env("POSTGRES_PASSWORD", secret.metadata.name, PASSWORD_KEY)
    exporter = _exporter(
        POSTGRES_EXPORTER_IMAGE,
        POSTGRES_EXPORTER_UID,
        POSTGRESQL.metrics_port,
        [
            k8s.core.v1.EnvVarArgs(
                name="DATA_SOURCE_URI", value=f"127.0.0.1:{POSTGRESQL.port}/{DATABASE_NAME}?sslmode=disable"
            ),
            k8s.core.v1.EnvVarArgs(name="DATA_SOURCE_USER", value=POSTGRESQL.user),
            pods.secret_env("DATA_SOURCE_PASS", secret.metadata.name, PASSWORD_KEY),
        ],
    )
    return DataServiceSpec(
        endpoint=POSTGRESQL,
        image=POSTGRESQL_IMAGE,
        uid=IMAGE_UID,
        data_path="/var/lib/postgresql/data",
        volume_gib=sizing.postgresql_volume_gib,
        resources=pods.Resources("250m", "512Mi", "2", "1536Mi"),
        health_command=["pg_isready", "-h", "127.0.0.1", "-U", POSTGRESQL.user, "-d", DATABASE_NAME],
        probe_period_seconds=10,
        # The entrypoint writes the socket and lock file to /var/run/postgresql and runs initdb into PGDATA.
        scratch=pods.Scratch({"run": "/var/run/postgresql", "tmp": pods.TMP_DIR}),
        env=[
            k8s.core.v1.EnvVarArgs(name="POSTGRES_USER", value=POSTGRESQL.user),
            k8s.core.v1.EnvVarArgs(name="POSTGRES_DB", value=DATABASE_NAME),
            # A subdirectory: the volume's root holds lost+found, which initdb refuses.
            k8s.core.v1.EnvVarArgs(name="PGDATA", value="/var/lib/postgresql/data/pgdata"),
            password,
        ],
        sidecars=[exporter],
    )


def _redis(sizing: WorkloadSizing, secret: k8s.core.v1.Secret) -> DataServiceSpec:
    auth = pods.secret_env("REDISCLI_AUTH", secret.metadata.name, PASSWORD_KEY)
    exporter = _exporter(
        REDIS_EXPORTER_IMAGE,
        REDIS_EXPORTER_UID,
        REDIS.metrics_port,
        [
            k8s.core.v1.EnvVarArgs(name="REDIS_ADDR", value=f"redis://127.0.0.1:{REDIS.port}"),
            pods.secret_env("REDIS_PASSWORD", secret.metadata.name, PASSWORD_KEY),
        ],
    )
    return DataServiceSpec(
        endpoint=REDIS,
        image=REDIS_IMAGE,
        uid=IMAGE_UID,
        data_path="/data",
        volume_gib=sizing.redis_volume_gib,
        resources=pods.Resources("100m", "256Mi", "1", "512Mi"),
        # The password stays out of the command line: `requirepass` comes from a file of the Secret.
        args=[
            "redis-server",
            "/etc/redis/auth/auth.conf",
            "--appendonly",
            "yes",
            "--dir",
            "/data",
            "--maxmemory",
            REDIS_MAX_MEMORY,
            "--maxmemory-policy",
            # Redis holds only the analysis cache and rate-limit buckets; PostgreSQL is the source of truth.
            "allkeys-lru",
        ],
        health_command=["sh", "-c", "redis-cli -h 127.0.0.1 ping | grep -q PONG"],
        probe_period_seconds=10,
        scratch=pods.Scratch({"tmp": pods.TMP_DIR}),
        env=[auth],
        config_volumes=[(_secret_volume("auth", secret, ["auth.conf"]), "/etc/redis/auth")],
        sidecars=[exporter],
    )


def _rabbitmq(sizing: WorkloadSizing, secret: k8s.core.v1.Secret) -> DataServiceSpec:
    return DataServiceSpec(
        endpoint=RABBITMQ,
        image=RABBITMQ_IMAGE,
        uid=IMAGE_UID,
        data_path="/var/lib/rabbitmq",  # also HOME: the Erlang cookie the CLI tools share with the server
        volume_gib=sizing.rabbitmq_volume_gib,
        resources=RABBITMQ_RESOURCES,
        # Each check boots an Erlang VM for the CLI (about a second of CPU): probe less often.
        health_command=["rabbitmq-diagnostics", "-q", "check_port_connectivity"],
        probe_period_seconds=30,
        scratch=pods.Scratch({"tmp": pods.TMP_DIR}),
        config_volumes=[
            (_secret_volume("config", secret, ["rabbitmq.conf", "enabled_plugins"]), "/etc/rabbitmq")
        ],
    )
