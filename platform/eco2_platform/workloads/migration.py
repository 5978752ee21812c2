"""``eco2:platform:Migration``: ``ecoeco migrate`` (Alembic) as a Job that the API Deployments wait for.

pulumi-kubernetes awaits a Job until it completes, so anything that ``depends_on`` the Job rolls only after
the schema is current. The Job's name carries a hash of the image and of the settings: a new image tag is a
new Job (created, awaited, then the old one deleted); an unchanged tag leaves the finished Job alone, and the
immutable pod template is never updated in place. No ``ttlSecondsAfterFinished``: a Job that deleted itself
would be re-created by the next ``pulumi up``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from eco2_platform.namespaces import APP_NAMESPACE
from eco2_platform.workloads import pods
from eco2_platform.workloads.app_config import AppConfig
from eco2_platform.workloads.app_pod import AppContainer, app_pod_template
from infra.roles import API_ROLE

MIGRATE_COMMAND = ("ecoeco", "migrate")
BACKOFF_LIMIT = 4
DEADLINE_SECONDS = 900


def job_name(image: str, settings_checksum: str) -> str:
    """``migrate-<10 hex>``: a valid, bounded name whatever the tag looks like."""
    return f"migrate-{hashlib.sha256(f'{image} {settings_checksum}'.encode()).hexdigest()[:10]}"


@dataclass(frozen=True)
class MigrationArgs:
    provider: k8s.Provider
    image: str
    config: AppConfig
    wait_for: Sequence[pulumi.Resource]
    """The CNI, the namespace and the PostgreSQL StatefulSet."""


class Migration(pulumi.ComponentResource):
    job: k8s.batch.v1.Job

    def __init__(self, name: str, args: MigrationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eco2:platform:Migration", name, None, opts)
        labels = pods.labels("eco2-migrate", "migration")
        container = AppContainer(
            name="migrate", command=MIGRATE_COMMAND, resources=pods.Resources("100m", "128Mi", "1", "512Mi")
        )
        self.job = k8s.batch.v1.Job(
            "migrate",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.config.checksum.apply(lambda checksum: job_name(args.image, checksum)),
                namespace=APP_NAMESPACE,
                labels=labels,
            ),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=BACKOFF_LIMIT,
                active_deadline_seconds=DEADLINE_SECONDS,
                template=app_pod_template(
                    container,
                    image=args.image,
                    config=args.config,
                    labels=labels,
                    role=API_ROLE,
                    restart_policy="Never",
                ),
            ),
            opts=pods.child_options(self, args.provider, [args.config, *args.wait_for]),
        )
        self.register_outputs({"job": self.job.metadata.name})
