"""One data service: a single-replica StatefulSet on its own node with a PersistentVolumeClaim, a headless
Service and a PodDisruptionBudget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from eco2_platform.data.endpoints import DataEndpoint
from eco2_platform.namespaces import DATA_NAMESPACE
from eco2_platform.storage_classes import DEFAULT_STORAGE_CLASS
from eco2_platform.workloads import pods

DATA_VOLUME = "data"
STARTUP_SECONDS = 600
"""First start runs initdb / creates the broker's database: up to 10 minutes."""


@dataclass(frozen=True)
class DataServiceSpec:
    endpoint: DataEndpoint
    image: str
    uid: int
    """The image's own non-root user (999 in the postgres, redis and rabbitmq images)."""
    data_path: str
    volume_gib: int
    resources: pods.Resources
    health_command: Sequence[str]
    """Exit 0 when the server answers; the readiness, liveness and startup probes all run it."""
    probe_period_seconds: int
    scratch: pods.Scratch
    args: Sequence[str] = ()
    env: Sequence[k8s.core.v1.EnvVarArgs] = ()
    config_volumes: Sequence[tuple[k8s.core.v1.VolumeArgs, str]] = ()
    """Read-only volumes (a Secret or ConfigMap) and where they are mounted."""
    sidecars: Sequence[k8s.core.v1.ContainerArgs] = field(default_factory=tuple)
    termination_grace_seconds: int = 60

    @property
    def labels(self) -> dict[str, str]:
        return pods.labels(self.endpoint.name, "database")

    @property
    def selector(self) -> dict[str, str]:
        return pods.selector(self.endpoint.name, "database")


def probe(spec: DataServiceSpec, failures: int) -> k8s.core.v1.ProbeArgs:
    return pods.exec_probe(
        spec.health_command, period=spec.probe_period_seconds, timeout=10, failures=failures
    )


def server_container(spec: DataServiceSpec) -> k8s.core.v1.ContainerArgs:
    endpoint = spec.endpoint
    ports = [k8s.core.v1.ContainerPortArgs(name="server", container_port=endpoint.port)]
    if not spec.sidecars:  # the server exports its own metrics (RabbitMQ's rabbitmq_prometheus plugin)
        ports.append(k8s.core.v1.ContainerPortArgs(name="metrics", container_port=endpoint.metrics_port))
    return k8s.core.v1.ContainerArgs(
        name=endpoint.name,
        image=spec.image,
        args=list(spec.args) or None,
        env=list(spec.env) or None,
        ports=ports,
        resources=spec.resources.args(),
        security_context=pods.container_security(spec.uid),
        startup_probe=probe(spec, STARTUP_SECONDS // spec.probe_period_seconds),
        readiness_probe=probe(spec, 2),
        liveness_probe=probe(spec, 4),
        volume_mounts=[
            k8s.core.v1.VolumeMountArgs(name=DATA_VOLUME, mount_path=spec.data_path),
            *spec.scratch.mounts(),
            *(
                k8s.core.v1.VolumeMountArgs(name=volume.name, mount_path=path, read_only=True)
                for volume, path in spec.config_volumes
            ),
        ],
    )


def data_service(
    spec: DataServiceSpec, opts: pulumi.ResourceOptions
) -> tuple[k8s.apps.v1.StatefulSet, k8s.core.v1.Service, k8s.policy.v1.PodDisruptionBudget]:
    name = spec.endpoint.name
    metadata = k8s.meta.v1.ObjectMetaArgs(name=name, namespace=DATA_NAMESPACE, labels=spec.labels)
    service = k8s.core.v1.Service(
        name,
        metadata=metadata,
        spec=k8s.core.v1.ServiceSpecArgs(
            cluster_ip="None",
            selector=spec.selector,
            ports=[
                k8s.core.v1.ServicePortArgs(name="server", port=spec.endpoint.port, target_port="server"),
                k8s.core.v1.ServicePortArgs(
                    name="metrics", port=spec.endpoint.metrics_port, target_port="metrics"
                ),
            ],
        ),
        opts=opts,
    )
    statefulset = k8s.apps.v1.StatefulSet(
        name,
        metadata=metadata,
        spec=k8s.apps.v1.StatefulSetSpecArgs(
            service_name=name,
            replicas=1,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=spec.selector),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=spec.labels),
                spec=k8s.core.v1.PodSpecArgs(
                    node_selector=pods.node_selector(name),
                    tolerations=pods.tolerations(name),
                    security_context=pods.pod_security(spec.uid),
                    automount_service_account_token=False,
                    enable_service_links=False,
                    termination_grace_period_seconds=spec.termination_grace_seconds,
                    containers=[server_container(spec), *spec.sidecars],
                    volumes=[*spec.scratch.volumes(), *(volume for volume, _ in spec.config_volumes)],
                ),
            ),
            volume_claim_templates=[
                k8s.core.v1.PersistentVolumeClaimArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(name=DATA_VOLUME, labels=spec.labels),
                    spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                        access_modes=["ReadWriteOnce"],
                        storage_class_name=DEFAULT_STORAGE_CLASS,
                        resources=k8s.core.v1.VolumeResourceRequirementsArgs(
                            requests={"storage": f"{spec.volume_gib}Gi"}
                        ),
                    ),
                )
            ],
        ),
        opts=opts,
    )
    # One replica: the budget makes draining the node a deliberate act (delete the budget, accept the outage)
    # instead of something a cluster upgrade does on its own.
    budget = k8s.policy.v1.PodDisruptionBudget(
        name,
        metadata=metadata,
        spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
            min_available=1, selector=k8s.meta.v1.LabelSelectorArgs(match_labels=spec.selector)
        ),
        opts=opts,
    )
    return statefulset, service, budget
