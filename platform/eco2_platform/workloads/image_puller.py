"""``eco2:platform:AppImagePuller``: the app image, pulled on every API and async node before the app needs
it.

A DaemonSet whose init container is the app image (it runs ``python -c pass`` and exits) and whose only
long-running container is the pause image every node already holds as its pod sandbox. It is created as soon
as pods can be scheduled, so on a fresh cluster the pulls happen while the EBS CSI driver and PostgreSQL come
up, and the migration Job and the app Deployments, which wait for it, start from a local image. On a new tag
it pulls on every node at once before the app rolls; a node added later pulls when it joins (the same idea as
JupyterHub's continuous image puller).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from eco2_platform.namespaces import APP_NAMESPACE
from eco2_platform.workloads import pods
from eco2_platform.workloads.app_pod import APP_UID
from infra.roles import API_ROLE, ASYNC_ROLE, ROLE_LABEL

PULLER_NAME = "app-image-puller"
PULLER_COMPONENT = "image-puller"
PULLED_ON_ROLES = (API_ROLE, ASYNC_ROLE)
"""Where app pods run: the API Deployments and the migration Job (API nodes), the workers (async nodes)."""
PULL_COMMAND = ("python", "-c", "pass")
"""Proves the image starts, costs no writes; the venv's python is on the image's PATH."""
PAUSE_UID = 65535
"""The pause image's own user."""
PULL_RESOURCES = pods.Resources("10m", "32Mi", "500m", "128Mi")
HOLD_RESOURCES = pods.Resources("1m", "8Mi", "10m", "16Mi")


@dataclass(frozen=True)
class AppImagePullerArgs:
    provider: k8s.Provider
    image: str
    pause_image: str
    """The sandbox image containerd pins on every node (``infra.render.cloud_init.pause_image``)."""
    wait_for: Sequence[pulumi.Resource]
    """The namespace and what every scheduled pod waits for (the CNI, the joined workers)."""


class AppImagePuller(pulumi.ComponentResource):
    daemon_set: k8s.apps.v1.DaemonSet
    """Ready once every API and async node holds the image."""

    def __init__(
        self, name: str, args: AppImagePullerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("eco2:platform:AppImagePuller", name, None, opts)
        labels = pods.labels(PULLER_NAME, PULLER_COMPONENT)
        tolerations = [t for role in PULLED_ON_ROLES for t in pods.tolerations(role) or []]
        self.daemon_set = k8s.apps.v1.DaemonSet(
            PULLER_NAME,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=PULLER_NAME, namespace=APP_NAMESPACE, labels=labels),
            spec=k8s.apps.v1.DaemonSetSpecArgs(
                selector=k8s.meta.v1.LabelSelectorArgs(
                    match_labels=pods.selector(PULLER_NAME, PULLER_COMPONENT)
                ),
                # A new tag is pulled on every node at once, not one node after the other.
                update_strategy=k8s.apps.v1.DaemonSetUpdateStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDaemonSetArgs(max_unavailable="100%"),
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        affinity=_on_roles(PULLED_ON_ROLES),
                        tolerations=tolerations or None,
                        security_context=pods.pod_security(APP_UID),
                        automount_service_account_token=False,
                        enable_service_links=False,
                        termination_grace_period_seconds=1,
                        init_containers=[
                            k8s.core.v1.ContainerArgs(
                                name="pull",
                                image=args.image,
                                command=list(PULL_COMMAND),
                                resources=PULL_RESOURCES.args(),
                                security_context=pods.container_security(APP_UID),
                            )
                        ],
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="hold",
                                image=args.pause_image,
                                resources=HOLD_RESOURCES.args(),
                                security_context=pods.container_security(PAUSE_UID),
                            )
                        ],
                    ),
                ),
            ),
            opts=pods.child_options(self, args.provider, args.wait_for),
        )
        self.register_outputs({"daemonSet": self.daemon_set.metadata.name})


def _on_roles(roles: Sequence[str]) -> k8s.core.v1.AffinityArgs:
    return k8s.core.v1.AffinityArgs(
        node_affinity=k8s.core.v1.NodeAffinityArgs(
            required_during_scheduling_ignored_during_execution=k8s.core.v1.NodeSelectorArgs(
                node_selector_terms=[
                    k8s.core.v1.NodeSelectorTermArgs(
                        match_expressions=[
                            k8s.core.v1.NodeSelectorRequirementArgs(
                                key=ROLE_LABEL, operator="In", values=list(roles)
                            )
                        ]
                    )
                ]
            )
        )
    )
