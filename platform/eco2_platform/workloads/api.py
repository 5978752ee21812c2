"""``eco2:platform:Api``: one Deployment per API service on the API nodes, its NodePort Service on the port
the ALB target group forwards to (infra/ports.py), an HPA on CPU and a PodDisruptionBudget."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from eco2_platform.namespaces import APP_NAMESPACE
from eco2_platform.workloads import pods
from eco2_platform.workloads.app_pod import (
    AppContainer,
    AppWorkloadArgs,
    app_pod_template,
    deployment_metadata,
)
from infra.ports import API_ROUTES, CONTAINER_PORT, HEALTH_CHECK_PATH, ApiRoute
from infra.roles import API_ROLE

API_NAME = "eco2-api"
"""``app.kubernetes.io/name`` of every API pod; ``component`` is the service."""
API_RESOURCES = pods.Resources("100m", "192Mi", "1", "768Mi")
TARGET_CPU_PERCENT = 70
LISTEN_ALL = "0.0.0.0"  # noqa: S104 -- inside the pod; the Service and NetworkPolicy decide who connects


def serve_command(service: str) -> list[str]:
    """The container command of one API service (apps/cli.py ``serve``)."""
    return ["ecoeco", "serve", service, "--host", LISTEN_ALL, "--port", str(CONTAINER_PORT)]


class Api(pulumi.ComponentResource):
    deployments: dict[str, k8s.apps.v1.Deployment]
    services: dict[str, k8s.core.v1.Service]

    def __init__(self, name: str, args: AppWorkloadArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eco2:platform:Api", name, None, opts)
        self.deployments = {}
        self.services = {}
        for route in API_ROUTES:
            self._service(route, args)
        self.register_outputs({"services": {name: s.metadata.name for name, s in self.services.items()}})

    def _service(self, route: ApiRoute, args: AppWorkloadArgs) -> None:
        name = route.service
        labels = pods.labels(API_NAME, name)
        match = pods.selector(API_NAME, name)
        metadata = deployment_metadata(name, APP_NAMESPACE, labels)
        opts = pods.child_options(self, args.provider, [args.config])
        health = pods.http_probe(HEALTH_CHECK_PATH, "http", period=10, timeout=3, failures=3)
        container = AppContainer(
            name="api",
            command=serve_command(name),
            resources=API_RESOURCES,
            ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=CONTAINER_PORT)],
            readiness=health,
            liveness=pods.http_probe(HEALTH_CHECK_PATH, "http", period=10, timeout=3, failures=6),
            startup=pods.http_probe(HEALTH_CHECK_PATH, "http", period=2, timeout=2, failures=60),
        )
        # No `replicas`: the HPA owns the count (a fixed value would reset it on every `pulumi up`).
        self.deployments[name] = k8s.apps.v1.Deployment(
            name,
            metadata=metadata,
            spec=k8s.apps.v1.DeploymentSpecArgs(
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=match),
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_unavailable=0, max_surge=1),
                ),
                template=app_pod_template(
                    container,
                    image=args.image,
                    config=args.config,
                    labels=labels,
                    role=API_ROLE,
                    topology_spread=True,
                ),
            ),
            opts=pods.child_options(self, args.provider, [args.config, *args.wait_for]),
        )
        self.services[name] = k8s.core.v1.Service(
            name,
            metadata=metadata,
            spec=k8s.core.v1.ServiceSpecArgs(
                type="NodePort",
                selector=match,
                ports=[
                    k8s.core.v1.ServicePortArgs(
                        name="http", port=CONTAINER_PORT, target_port="http", node_port=route.node_port
                    )
                ],
            ),
            opts=opts,
        )
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            name,
            metadata=metadata,
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name=name
                ),
                min_replicas=args.sizing.api_replicas,
                max_replicas=args.sizing.api_max_replicas,
                metrics=[
                    k8s.autoscaling.v2.MetricSpecArgs(
                        type="Resource",
                        resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                            name="cpu",
                            target=k8s.autoscaling.v2.MetricTargetArgs(
                                type="Utilization", average_utilization=TARGET_CPU_PERCENT
                            ),
                        ),
                    )
                ],
            ),
            opts=opts,
        )
        k8s.policy.v1.PodDisruptionBudget(
            name,
            metadata=metadata,
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=1, selector=k8s.meta.v1.LabelSelectorArgs(match_labels=match)
            ),
            opts=opts,
        )
