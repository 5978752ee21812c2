"""The cluster platform in one component: CNI, metrics, storage and monitoring, in the order they need.

``ClusterPlatform`` takes the cluster's provider and builds Calico first, while the workers are still joining
(the operator and calico-node tolerate a NotReady control plane); every other release waits for
``scheduling_ready`` (the CNI is Ready and every worker has joined). The workloads take ``scheduling_ready``
and ``storage_ready`` into their ``depends_on`` the same way (their Args' ``scheduling_ready``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from eco2_platform.calico import Calico, CalicoArgs
from eco2_platform.ebs_csi import EbsCsi, EbsCsiArgs
from eco2_platform.metrics_server import MetricsServer, MetricsServerArgs
from eco2_platform.monitoring import Monitoring, MonitoringArgs
from infra.config import POD_CIDR, StackConfig
from infra.roles import ROLES


@dataclass(frozen=True)
class ClusterPlatformArgs:
    config: StackConfig
    provider: k8s.Provider
    """The cluster's provider (``Cluster.provider``); every Kubernetes resource here uses it."""
    nodes_joined: Sequence[pulumi.Resource]
    """The workers' joins (``Cluster.joins``): Calico does not wait for them; all that is scheduled after it
    does."""


class ClusterPlatform(pulumi.ComponentResource):
    calico: Calico
    metrics_server: MetricsServer
    ebs_csi: EbsCsi
    monitoring: Monitoring
    scheduling_ready: list[pulumi.Resource]
    """Resolve once pods can be scheduled on every node and reach each other (Calico's Installation is Ready
    and every worker has joined)."""
    storage_ready: list[pulumi.Resource]
    """Resolve once PersistentVolumeClaims on the default gp3 class can be provisioned."""

    def __init__(
        self, name: str, args: ClusterPlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("eco2:platform:ClusterPlatform", name, None, opts)
        config, provider = args.config, args.provider
        child = pulumi.ResourceOptions(parent=self)
        self.calico = Calico("calico", CalicoArgs(pod_cidr=str(POD_CIDR), provider=provider), child)
        self.scheduling_ready = [*self.calico.ready, *args.nodes_joined]
        self.metrics_server = MetricsServer(
            "metrics-server",
            MetricsServerArgs(
                roles=list(ROLES.values()),
                vpc_cidr=config.vpc_cidr,
                provider=provider,
                scheduling_ready=self.scheduling_ready,
            ),
            child,
        )
        self.ebs_csi = EbsCsi(
            "ebs-csi",
            EbsCsiArgs(
                region=config.region,
                cluster_id=config.name_prefix,
                provider=provider,
                scheduling_ready=self.scheduling_ready,
            ),
            child,
        )
        self.storage_ready = list(self.ebs_csi.ready)
        self.monitoring = Monitoring(
            "monitoring",
            MonitoringArgs(
                domain=config.domain,
                config=config.monitoring,
                provider=provider,
                scheduling_ready=self.scheduling_ready,
                storage_class=self.ebs_csi.storage_class,
            ),
            child,
        )
        self.register_outputs({})
