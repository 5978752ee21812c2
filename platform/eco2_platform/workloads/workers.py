"""``eco2:platform:Workers``: the Celery workers on the async nodes, one Deployment per queue group, and the
single beat scheduler that triggers the stuck-job sweeper.

The queue names come from the app's table (apps/core/queue_table.py). The dead-letter consumer is a consumer
bootstep that apps/worker.py adds to every worker: each group also drains ``dead_letter`` (competing consumers
on one quorum queue; marking a job dead is a compare-and-set), so dead letters are handled while any worker
runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from apps.core.queue_table import QueueName
from eco2_platform.namespaces import APP_NAMESPACE
from eco2_platform.workloads import pods
from eco2_platform.workloads.app_pod import (
    AppContainer,
    AppWorkloadArgs,
    app_pod_template,
    deployment_metadata,
)
from infra.ports import WORKER_METRICS_PORT
from infra.roles import ASYNC_ROLE

WORKER_NAME = "eco2-worker"
BEAT_NAME = "eco2-beat"
WORKER_APP = "apps.worker"
PING_APP = "apps.core.queue:celery_app"
"""The liveness check imports only the Celery app, not the tasks or the classifier."""
WORKER_RESOURCES = pods.Resources("200m", "448Mi", "2", "1Gi")
BEAT_RESOURCES = pods.Resources("20m", "128Mi", "500m", "384Mi")
BEAT_STATE_DIR = "/var/lib/celery"
BEAT_SCHEDULE = f"{BEAT_STATE_DIR}/celerybeat-schedule"
METRICS_DIR = f"{pods.TMP_DIR}/eco2-metrics"
"""prometheus-client's multiprocess directory: the pool processes that run the tasks write their samples
there and the worker's metrics server sums them (docs/observability.md)."""
BEAT_STALE_MINUTES = 10
"""Beat rewrites its schedule file at least every 3 minutes (the sweep runs every minute)."""


@dataclass(frozen=True)
class WorkerGroup:
    name: str
    """Deployment name suffix and Celery node name (``<name>@<pod>``)."""
    queues: tuple[QueueName, ...]
    concurrency: int
    purpose: str


WORKER_GROUPS = (
    WorkerGroup(
        "high-priority", (QueueName.HIGH_PRIORITY,), 2, "photo analyses with the embedded classifier"
    ),
    WorkerGroup(
        "default",
        (QueueName.DEFAULT, QueueName.LOW_PRIORITY),
        2,
        "everything else, the sweeper's task included",
    ),
    # OpenAI calls: their own worker so slow upstream calls never hold up embedded analyses; the account-wide
    # quota is the app's Redis token bucket (ECO2_OPENAI_REQUESTS_PER_MINUTE), the concurrency caps calls in
    # flight from this worker.
    WorkerGroup("external-api", (QueueName.EXTERNAL_API,), 2, "OpenAI vision analyses, rate-limited"),
)


def worker_command(group: WorkerGroup) -> list[str]:
    return [
        "celery",
        "-A",
        WORKER_APP,
        "worker",
        "--queues",
        ",".join(queue.value for queue in group.queues),
        "--hostname",
        f"{group.name}@%h",
        "--concurrency",
        str(group.concurrency),
        "--loglevel",
        "INFO",
    ]


def ping_command(group: WorkerGroup) -> list[str]:
    """Exit 0 only when this pod's worker answers a remote-control ping through the broker: its main process,
    its event loop and its broker connection all work."""
    return [
        "sh",
        "-c",
        f'exec celery -A {PING_APP} inspect ping --destination "{group.name}@$(hostname)" --timeout 10',
    ]


BEAT_COMMAND = ["celery", "-A", WORKER_APP, "beat", "--schedule", BEAT_SCHEDULE, "--loglevel", "INFO"]
BEAT_LIVENESS = [
    "sh",
    "-c",
    f"find {BEAT_STATE_DIR} -name 'celerybeat-schedule*' -mmin -{BEAT_STALE_MINUTES} | grep -q .",
]


class Workers(pulumi.ComponentResource):
    deployments: dict[str, k8s.apps.v1.Deployment]

    def __init__(self, name: str, args: AppWorkloadArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eco2:platform:Workers", name, None, opts)
        self._args = args
        self.deployments = {}
        for group in WORKER_GROUPS:
            self._worker(group)
        self._beat()
        self.register_outputs({"deployments": [d.metadata.name for d in self.deployments.values()]})

    def _deployment(
        self,
        name: str,
        labels: dict[str, str],
        container: AppContainer,
        replicas: int,
        strategy: k8s.apps.v1.DeploymentStrategyArgs,
    ) -> k8s.apps.v1.Deployment:
        args = self._args
        deployment = k8s.apps.v1.Deployment(
            name,
            metadata=deployment_metadata(name, APP_NAMESPACE, labels),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=replicas,
                selector=k8s.meta.v1.LabelSelectorArgs(
                    match_labels=pods.selector(
                        labels["app.kubernetes.io/name"], labels["app.kubernetes.io/component"]
                    )
                ),
                strategy=strategy,
                template=app_pod_template(
                    container, image=args.image, config=args.config, labels=labels, role=ASYNC_ROLE
                ),
            ),
            opts=pods.child_options(self, args.provider, [args.config, *args.wait_for]),
        )
        self.deployments[name] = deployment
        return deployment

    def _worker(self, group: WorkerGroup) -> None:
        name = f"worker-{group.name}"
        labels = pods.labels(WORKER_NAME, group.name)
        ping = ping_command(group)
        container = AppContainer(
            name="worker",
            command=worker_command(group),
            resources=WORKER_RESOURCES,
            ports=[k8s.core.v1.ContainerPortArgs(name="metrics", container_port=WORKER_METRICS_PORT)],
            # A broker outage fails the ping too: after 5 minutes the worker restarts, which loses nothing
            # (late acks: unfinished messages are redelivered) and drops a connection that may be wedged.
            liveness=pods.exec_probe(ping, period=60, timeout=30, failures=5),
            startup=pods.exec_probe(ping, period=15, timeout=30, failures=40),
            env={"PROMETHEUS_MULTIPROC_DIR": METRICS_DIR},
        )
        self._deployment(
            name,
            labels,
            container,
            self._args.sizing.worker_replicas,
            k8s.apps.v1.DeploymentStrategyArgs(
                type="RollingUpdate",
                rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_unavailable=0, max_surge=1),
            ),
        )
        k8s.policy.v1.PodDisruptionBudget(
            name,
            metadata=deployment_metadata(name, APP_NAMESPACE, labels),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=pods.selector(WORKER_NAME, group.name)),
            ),
            opts=pods.child_options(self, self._args.provider, [self._args.config]),
        )

    def _beat(self) -> None:
        """Exactly one scheduler: replicas 1 and Recreate, so two never overlap during a rollout."""
        container = AppContainer(
            name="beat",
            command=BEAT_COMMAND,
            resources=BEAT_RESOURCES,
            liveness=pods.exec_probe(BEAT_LIVENESS, period=60, timeout=10, failures=3, initial_delay=60),
            extra_scratch={"schedule": BEAT_STATE_DIR},
        )
        self._deployment(
            "beat",
            pods.labels(BEAT_NAME, "scheduler"),
            container,
            1,
            k8s.apps.v1.DeploymentStrategyArgs(type="Recreate"),
        )
