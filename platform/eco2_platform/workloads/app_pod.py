"""The pod every application process runs in: the one app image as user 10001 (apps/Dockerfile), the settings
ConfigMap and secret variables, a read-only root with emptyDirs at /tmp and HOME, and no API token."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from eco2_platform.workloads import pods
from eco2_platform.workloads.app_config import CONFIG_CHECKSUM_ANNOTATION, AppConfig
from infra.config import WorkloadSizing

APP_UID = 10001
"""``USER 10001:10001`` in apps/Dockerfile."""
HOME = "/home/eco2"
APP_SCRATCH = {"tmp": pods.TMP_DIR, "home": HOME}
"""Where every app process may write: Python's tempfile directory and HOME (the image creates no home)."""


@dataclass(frozen=True)
class AppWorkloadArgs:
    """What the long-running app workloads (``Api``, ``Workers``) need."""

    provider: k8s.Provider
    image: str
    sizing: WorkloadSizing
    config: AppConfig
    wait_for: Sequence[pulumi.Resource]
    """The CNI and the migration Job: a new image runs only against a migrated schema."""


@dataclass(frozen=True)
class AppContainer:
    """What differs between the app's processes: the command, ports, probes, size and extra scratch space."""

    name: str
    command: Sequence[str]
    resources: pods.Resources
    ports: Sequence[k8s.core.v1.ContainerPortArgs] = ()
    readiness: k8s.core.v1.ProbeArgs | None = None
    liveness: k8s.core.v1.ProbeArgs | None = None
    startup: k8s.core.v1.ProbeArgs | None = None
    extra_scratch: Mapping[str, str] = field(default_factory=dict)
    """More emptyDirs (name → path), e.g. the beat schedule."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Plain variables of this process only (never a secret: those come from AppConfig)."""


def app_pod_template(
    container: AppContainer,
    *,
    image: str,
    config: AppConfig,
    labels: Mapping[str, str],
    role: str,
    restart_policy: str | None = None,
    topology_spread: bool = False,
) -> k8s.core.v1.PodTemplateSpecArgs:
    scratch = pods.Scratch({**APP_SCRATCH, **container.extra_scratch})
    spread = (
        [
            k8s.core.v1.TopologySpreadConstraintArgs(
                max_skew=1,
                topology_key="kubernetes.io/hostname",
                when_unsatisfiable="ScheduleAnyway",
                label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(labels)),
            )
        ]
        if topology_spread
        else None
    )
    return k8s.core.v1.PodTemplateSpecArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(
            labels=dict(labels), annotations={CONFIG_CHECKSUM_ANNOTATION: config.checksum}
        ),
        spec=k8s.core.v1.PodSpecArgs(
            node_selector=pods.node_selector(role),
            tolerations=pods.tolerations(role),
            security_context=pods.pod_security(APP_UID),
            automount_service_account_token=False,
            enable_service_links=False,
            restart_policy=restart_policy,
            topology_spread_constraints=spread,
            containers=[
                k8s.core.v1.ContainerArgs(
                    name=container.name,
                    image=image,
                    command=list(container.command),
                    env=[
                        k8s.core.v1.EnvVarArgs(name=name, value=value)
                        for name, value in {"HOME": HOME, **container.env}.items()
                    ]
                    + config.env(),
                    env_from=config.env_from(),
                    ports=list(container.ports) or None,
                    resources=container.resources.args(),
                    security_context=pods.container_security(APP_UID),
                    readiness_probe=container.readiness,
                    liveness_probe=container.liveness,
                    startup_probe=container.startup,
                    volume_mounts=scratch.mounts(),
                )
            ],
            volumes=scratch.volumes(),
        ),
    )


def deployment_metadata(name: str, namespace: str, labels: Mapping[str, str]) -> k8s.meta.v1.ObjectMetaArgs:
    return k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=dict(labels))
