"""``eco2:platform:PodMonitors``: what Prometheus (kube-prometheus-stack) scrapes of ours, one PodMonitor per
workload with a metrics port. They need the Prometheus operator's CRDs: they wait for the monitoring stack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from eco2_platform.data.endpoints import POSTGRESQL, RABBITMQ, REDIS
from eco2_platform.namespaces import APP_NAMESPACE, DATA_NAMESPACE
from eco2_platform.workloads import pods
from eco2_platform.workloads.api import API_NAME
from eco2_platform.workloads.workers import WORKER_NAME
from infra.ports import METRICS_PATH

SCRAPE_INTERVAL = "30s"
RABBITMQ_PER_OBJECT_PATH = "/metrics/per-object"


@dataclass(frozen=True)
class ScrapeTarget:
    name: str
    namespace: str
    pod_name_label: str
    """``app.kubernetes.io/name`` of the pods."""
    port: str
    """Name of the container port serving the metrics."""
    path: str = METRICS_PATH


SCRAPE_TARGETS = (
    ScrapeTarget(POSTGRESQL.name, DATA_NAMESPACE, POSTGRESQL.name, "metrics"),
    ScrapeTarget(REDIS.name, DATA_NAMESPACE, REDIS.name, "metrics"),
    # Per-queue series (depth, consumers, redeliveries) instead of the node-wide aggregate of /metrics.
    ScrapeTarget(RABBITMQ.name, DATA_NAMESPACE, RABBITMQ.name, "metrics", RABBITMQ_PER_OBJECT_PATH),
    ScrapeTarget("api", APP_NAMESPACE, API_NAME, "http"),
    ScrapeTarget("workers", APP_NAMESPACE, WORKER_NAME, "metrics"),
)


@dataclass(frozen=True)
class PodMonitorsArgs:
    provider: k8s.Provider
    wait_for: Sequence[pulumi.Resource]
    """The namespaces and the monitoring stack that installs the PodMonitor CRD."""


class PodMonitors(pulumi.ComponentResource):
    def __init__(self, name: str, args: PodMonitorsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eco2:platform:PodMonitors", name, None, opts)
        for target in SCRAPE_TARGETS:
            k8s.apiextensions.CustomResource(
                target.name,
                api_version="monitoring.coreos.com/v1",
                kind="PodMonitor",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=target.name,
                    namespace=target.namespace,
                    labels={"app.kubernetes.io/part-of": pods.PART_OF},
                ),
                spec={
                    "selector": {"matchLabels": {"app.kubernetes.io/name": target.pod_name_label}},
                    "podMetricsEndpoints": [
                        {"port": target.port, "path": target.path, "interval": SCRAPE_INTERVAL}
                    ],
                },
                opts=pods.child_options(self, args.provider, args.wait_for),
            )
        self.register_outputs({"targets": [target.name for target in SCRAPE_TARGETS]})
