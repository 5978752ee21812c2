"""Building blocks of a hardened pod, shared by the data services and the application workloads.

Every container runs as a numeric non-root user with a read-only root filesystem, no privilege escalation, no
capabilities and the runtime's default seccomp profile; it writes only to the emptyDir volumes (or the
PersistentVolume) its workload declares. That is what the namespaces' ``restricted`` Pod Security level asks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.roles import ROLES

PART_OF = "eco2"
TMP_DIR = "/tmp"  # noqa: S108 -- where an emptyDir is mounted, not a file the program opens
SCRATCH_SIZE_LIMIT = "256Mi"
"""Upper bound of each emptyDir: a pod that fills its scratch space is evicted instead of filling the node."""


@dataclass(frozen=True)
class Resources:
    """Requests and limits of one container (Kubernetes quantities)."""

    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str

    def args(self) -> k8s.core.v1.ResourceRequirementsArgs:
        return k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": self.cpu_request, "memory": self.memory_request},
            limits={"cpu": self.cpu_limit, "memory": self.memory_limit},
        )


def labels(name: str, component: str) -> dict[str, str]:
    """Recommended labels; ``name`` + ``component`` select a workload's pods."""
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
    }


def selector(name: str, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component}


def container_security(uid: int) -> k8s.core.v1.SecurityContextArgs:
    return k8s.core.v1.SecurityContextArgs(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=uid,
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def pod_security(uid: int) -> k8s.core.v1.PodSecurityContextArgs:
    """``fsGroup`` = the image's group, so mounted volumes are writable by the container's user."""
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=uid,
        fs_group=uid,
        fs_group_change_policy="OnRootMismatch",
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


@dataclass(frozen=True)
class Scratch:
    """emptyDir volumes mounted where a container writes (name → mount path)."""

    paths: Mapping[str, str]

    def volumes(self) -> list[k8s.core.v1.VolumeArgs]:
        return [
            k8s.core.v1.VolumeArgs(
                name=name, empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=SCRATCH_SIZE_LIMIT)
            )
            for name in self.paths
        ]

    def mounts(self) -> list[k8s.core.v1.VolumeMountArgs]:
        return [k8s.core.v1.VolumeMountArgs(name=name, mount_path=path) for name, path in self.paths.items()]


def node_selector(role: str) -> dict[str, str]:
    """Pins a pod to the nodes of ``role`` (infra/roles.py, the labels the bootstrap registers)."""
    return ROLES[role].node_selector


def tolerations(role: str) -> list[k8s.core.v1.TolerationArgs] | None:
    """What a pod needs to land on ``role``'s nodes when they are tainted; None when they are not."""
    return [
        k8s.core.v1.TolerationArgs(
            key=toleration["key"],
            operator=toleration["operator"],
            value=toleration["value"],
            effect=toleration["effect"],
        )
        for toleration in ROLES[role].tolerations
    ] or None


def secret_env(name: str, secret_name: pulumi.Input[str], key: str) -> k8s.core.v1.EnvVarArgs:
    """An environment variable read from a Secret (never a plain ``value``)."""
    return k8s.core.v1.EnvVarArgs(
        name=name,
        value_from=k8s.core.v1.EnvVarSourceArgs(
            secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=secret_name, key=key)
        ),
    )


def exec_probe(
    command: Sequence[str], *, period: int, timeout: int, failures: int, initial_delay: int = 0
) -> k8s.core.v1.ProbeArgs:
    return k8s.core.v1.ProbeArgs(
        exec_=k8s.core.v1.ExecActionArgs(command=list(command)),
        period_seconds=period,
        timeout_seconds=timeout,
        failure_threshold=failures,
        initial_delay_seconds=initial_delay or None,
    )


def http_probe(path: str, port: str, *, period: int, timeout: int, failures: int) -> k8s.core.v1.ProbeArgs:
    return k8s.core.v1.ProbeArgs(
        http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port=port),
        period_seconds=period,
        timeout_seconds=timeout,
        failure_threshold=failures,
    )


def child_options(
    parent: pulumi.Resource, provider: pulumi.ProviderResource, depends_on: Sequence[pulumi.Resource] = ()
) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=list(depends_on) or None)
