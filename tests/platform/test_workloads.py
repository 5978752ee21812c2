"""The application on the cluster: schema-valid objects, hardened containers, the right nodes, the NodePorts
the ALB uses, the migration before the rollout, and the queue groups of the workers."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest

from apps.cli import build_parser
from apps.core.queue import DEAD_LETTER_QUEUE, WORK_QUEUES
from apps.core.queue_table import WORK_QUEUE_NAMES
from eco2_platform.namespaces import APP_NAMESPACE, DATA_NAMESPACE
from eco2_platform.workloads.app_pod import APP_SCRATCH, APP_UID, HOME
from eco2_platform.workloads.image_puller import PULLER_NAME
from eco2_platform.workloads.workers import WORKER_GROUPS
from infra.ports import API_ROUTES, CONTAINER_PORT, HEALTH_CHECK_PATH, WORKER_METRICS_PORT
from infra.roles import ROLES
from tests.support.kubernetes import (
    containers,
    env_of,
    kind,
    kubernetes_objects,
    named,
    objects_of_kind,
    pod_spec,
    workloads,
)
from tests.support.stack_config import parsed, raw_config
from tools.plan import crds, schemas, validation
from tools.plan.harness import STACKS, by_name, of_type, run_program, transitive_dependencies
from tools.plan.stack_runner import REPO_ROOT, stack_config

RUN_TO_COMPLETION = {"Job"}
"""Kinds whose containers exit when done: no liveness or readiness probe means anything there; the Job's
activeDeadlineSeconds bounds them instead."""
HOLDERS = {(PULLER_NAME, "hold")}
"""Containers that only keep a pod alive (the pause image: no shell, no port); the kubelet restarts one that
exits, and nothing else about it could be probed."""


def kubernetes_minor(stack: str) -> str:
    return parsed(raw_config(stack), stack).kubernetes_minor


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_of_the_app_and_data_namespaces_is_schema_valid(stack):
    report = validation.check(run_program(stack), kubernetes_minor(stack))
    assert report.findings == ()
    ours = [
        checked
        for checked in report.objects
        if checked.object.manifest["metadata"].get("namespace") in (APP_NAMESPACE, DATA_NAMESPACE)
    ]
    assert {checked.schema for checked in ours} == {
        f"kubernetes {kubernetes_minor(stack)}",
        "crd monitoring.coreos.com_podmonitors.yaml",
    }
    assert len(ours) > 40


def test_a_broken_object_fails_validation():
    resources = run_program("dev")
    deployment = copy.deepcopy(named(resources, "Deployment", "waste").inputs)
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["prot"] = 8000
    assert schemas.validate(deployment, "1.34", "waste")
    monitor = copy.deepcopy(named(resources, "PodMonitor", "api").inputs)
    monitor["spec"]["podMetricsEndpoints"][0]["interval"] = "every minute"
    assert crds.validate(monitor, "monitoring.coreos.com", "v1", "PodMonitor", "api")


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_resource_uses_the_cluster_provider(stack):
    resources = run_program(stack)
    (provider,) = of_type(resources, "pulumi:providers:kubernetes")
    for resource in kubernetes_objects(resources):
        assert resource.provider == provider.urn, resource.urn


@pytest.mark.parametrize("stack", STACKS)
def test_every_container_is_bounded_probed_and_locked_down(stack):
    checked = 0
    for workload in workloads(run_program(stack)):
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True, workload.urn
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, workload.urn
        assert spec["automountServiceAccountToken"] is False, workload.urn
        for container in containers(workload):
            where = f"{workload.urn} {container['name']}"
            resources = container["resources"]
            assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}, where
            security = container["securityContext"]
            assert security["runAsNonRoot"] is True and security["runAsUser"] > 0, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"] == {"drop": ["ALL"]}, where
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}, where
            holder = (workload.inputs["metadata"]["name"], container["name"]) in HOLDERS
            if kind(workload) not in RUN_TO_COMPLETION and not holder and container in spec["containers"]:
                assert "livenessProbe" in container, where
                if {port["name"] for port in container.get("ports", [])} & {"http", "server"}:
                    assert "readinessProbe" in container, where
            checked += 1
    assert checked >= 15


@pytest.mark.parametrize("stack", STACKS)
def test_app_containers_run_as_the_image_user_and_write_only_to_their_empty_dirs(stack):
    for workload in workloads(run_program(stack)):
        if workload.inputs["metadata"]["namespace"] != APP_NAMESPACE:
            continue
        spec = pod_spec(workload)
        if workload.inputs["metadata"]["name"] == PULLER_NAME:
            (container,) = spec["initContainers"]  # writes nothing: it only starts python
            assert container["securityContext"]["runAsUser"] == APP_UID
            continue
        (container,) = spec["containers"]
        assert container["securityContext"]["runAsUser"] == APP_UID
        mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
        assert set(APP_SCRATCH.values()) <= mounts
        assert env_of(container)["HOME"] == {"name": "HOME", "value": HOME}
        empty_dirs = {volume["name"] for volume in spec["volumes"] if "emptyDir" in volume}
        assert {volume["name"] for volume in spec["volumes"]} == empty_dirs, workload.urn


def test_the_image_user_is_the_one_the_dockerfile_declares():
    dockerfile = (REPO_ROOT / "apps" / "Dockerfile").read_text()
    assert f"USER {APP_UID}:{APP_UID}" in dockerfile


@pytest.mark.parametrize("stack", STACKS)
def test_app_image_is_the_stack_image(stack):
    image = f"ghcr.io/eco2-team/eco2-api:{stack_config(stack)['eco2:imageTag']}"
    for workload in workloads(run_program(stack)):
        if workload.inputs["metadata"]["namespace"] != APP_NAMESPACE:
            continue
        if workload.inputs["metadata"]["name"] == PULLER_NAME:  # holds with the node's sandbox image
            assert [c["image"] for c in pod_spec(workload)["initContainers"]] == [image]
        else:
            assert [c["image"] for c in containers(workload)] == [image]


@pytest.mark.parametrize("stack", STACKS)
def test_api_services_listen_on_the_node_ports_the_target_groups_forward_to(stack):
    resources = run_program(stack)
    for route in API_ROUTES:
        service = named(resources, "Service", route.service)
        assert service.inputs["spec"]["type"] == "NodePort"
        (port,) = service.inputs["spec"]["ports"]
        assert port["nodePort"] == route.node_port
        assert port["targetPort"] == "http"
        target_group = by_name(resources, "aws:lb/targetGroup:TargetGroup", f"tg-{route.service}")
        assert target_group.inputs["port"] == route.node_port
        health_path = target_group.inputs["healthCheck"]["path"]
        assert health_path == HEALTH_CHECK_PATH

        deployment = named(resources, "Deployment", route.service)
        assert (
            service.inputs["spec"]["selector"].items()
            <= deployment.inputs["spec"]["template"]["metadata"]["labels"].items()
        )
        (container,) = pod_spec(deployment)["containers"]
        assert container["ports"] == [{"name": "http", "containerPort": CONTAINER_PORT}]
        assert container["readinessProbe"]["httpGet"] == {"path": health_path, "port": "http"}
        assert pod_spec(deployment)["nodeSelector"] == ROLES["api"].node_selector


@pytest.mark.parametrize("stack", STACKS)
def test_api_commands_are_ones_the_cli_accepts(stack):
    parser = build_parser()
    for route in API_ROUTES:
        (container,) = pod_spec(named(run_program(stack), "Deployment", route.service))["containers"]
        command = container["command"]
        assert command[0] == "ecoeco"
        args = parser.parse_args(command[1:])
        assert (args.command, args.service, args.host, args.port) == ("serve", route.service, "0.0.0.0", 8000)
    (job,) = objects_of_kind(run_program(stack), "Job")
    assert parser.parse_args(pod_spec(job)["containers"][0]["command"][1:]).command == "migrate"


@pytest.mark.parametrize("stack", STACKS)
def test_api_scales_on_cpu_within_the_configured_bounds(stack):
    resources = run_program(stack)
    sizing = stack_config(stack)["eco2:workloads"]
    for route in API_ROUTES:
        hpa = named(resources, "HorizontalPodAutoscaler", route.service).inputs["spec"]
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": route.service}
        assert f'"apiReplicas": {hpa["minReplicas"]}' in sizing
        assert f'"apiMaxReplicas": {hpa["maxReplicas"]}' in sizing
        assert hpa["metrics"][0]["resource"]["name"] == "cpu"
        assert "replicas" not in named(resources, "Deployment", route.service).inputs["spec"]
        budget = named(resources, "PodDisruptionBudget", route.service).inputs["spec"]
        assert budget["maxUnavailable"] == 1


@pytest.mark.parametrize("stack", STACKS)
def test_migration_job_finishes_before_apis_and_workers_roll(stack):
    resources = run_program(stack)
    (job,) = objects_of_kind(resources, "Job")
    assert pod_spec(job)["restartPolicy"] == "Never"
    assert "ttlSecondsAfterFinished" not in job.inputs["spec"]
    postgresql = named(resources, "StatefulSet", "postgresql")
    assert postgresql.urn in transitive_dependencies(resources, job)
    app_deployments = [d for d in objects_of_kind(resources, "Deployment")]
    assert len(app_deployments) == len(API_ROUTES) + len(WORKER_GROUPS) + 1
    for deployment in app_deployments:
        assert job.urn in deployment.dependencies, deployment.urn


@pytest.mark.parametrize("stack", STACKS)
def test_workers_consume_every_work_queue_once_on_the_async_nodes(stack):
    resources = run_program(stack)
    consumed: list[str] = []
    for group in WORKER_GROUPS:
        deployment = named(resources, "Deployment", f"worker-{group.name}")
        spec = pod_spec(deployment)
        assert spec["nodeSelector"] == ROLES["async"].node_selector
        (container,) = spec["containers"]
        command = container["command"]
        assert command[:4] == ["celery", "-A", "apps.worker", "worker"]
        consumed += command[command.index("--queues") + 1].split(",")
        assert command[command.index("--hostname") + 1] == f"{group.name}@%h"
        assert {"name": "metrics", "containerPort": WORKER_METRICS_PORT} in container["ports"]
        liveness = " ".join(container["livenessProbe"]["exec"]["command"])
        assert f'inspect ping --destination "{group.name}@$(hostname)"' in liveness
        assert deployment.inputs["spec"]["replicas"] >= 1
    assert sorted(consumed) == sorted(queue.value for queue in WORK_QUEUE_NAMES)


def test_the_queue_table_is_the_topology_the_app_declares():
    assert [queue.name for queue in WORK_QUEUES] == [name.value for name in WORK_QUEUE_NAMES]
    assert DEAD_LETTER_QUEUE.name not in {queue.value for queue in WORK_QUEUE_NAMES}


def test_the_queue_table_imports_without_celery():
    code = "import sys, apps.core.queue_table; assert not {'celery', 'kombu'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True)


@pytest.mark.parametrize("stack", STACKS)
def test_exactly_one_beat_scheduler_with_its_schedule_on_an_empty_dir(stack):
    beat = named(run_program(stack), "Deployment", "beat").inputs["spec"]
    assert beat["replicas"] == 1
    assert beat["strategy"] == {"type": "Recreate"}
    (container,) = beat["template"]["spec"]["containers"]
    command = container["command"]
    assert command[:4] == ["celery", "-A", "apps.worker", "beat"]
    schedule = command[command.index("--schedule") + 1]
    mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
    assert any(schedule.startswith(f"{path}/") for path in mounts)


@pytest.mark.parametrize("stack", STACKS)
def test_namespaces_enforce_the_restricted_pod_security_level(stack):
    resources = run_program(stack)
    for name in (APP_NAMESPACE, DATA_NAMESPACE):
        namespace = next(
            r
            for r in objects_of_kind(resources, "Namespace")
            if r.inputs["metadata"]["name"] == name and "eco2:platform:Namespaces" in r.urn
        )
        assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("stack", STACKS)
def test_every_metrics_port_is_scraped(stack):
    resources = run_program(stack)
    monitors = objects_of_kind(resources, "PodMonitor")
    scraped = {
        (
            m.inputs["metadata"]["namespace"],
            m.inputs["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"],
            m.inputs["spec"]["podMetricsEndpoints"][0]["port"],
        )
        for m in monitors
    }
    for workload in workloads(resources):
        namespace = workload.inputs["metadata"]["namespace"]
        name = workload.inputs["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]
        for container in containers(workload):
            for port in container.get("ports", []):
                if port["name"] in ("metrics", "http"):
                    assert (namespace, name, port["name"]) in scraped, workload.urn


RESTRICTED_VOLUME_SOURCES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
"""Volume types the ``restricted`` Pod Security level admits."""


@pytest.mark.parametrize("stack", STACKS)
def test_pods_use_only_volumes_and_settings_the_restricted_level_admits(stack):
    for workload in workloads(run_program(stack)):
        spec = pod_spec(workload)
        for volume in spec.get("volumes", []):
            assert set(volume) - {"name"} <= RESTRICTED_VOLUME_SOURCES, workload.urn
        assert not {"hostNetwork", "hostPID", "hostIPC"} & set(spec), workload.urn
        for container in containers(workload):
            assert not any("hostPort" in port for port in container.get("ports", [])), workload.urn


def _waits_for_component(stack: str, component_type: str, kinds: set[str]) -> None:
    resources = run_program(stack)
    members = [r.urn for r in resources if r.custom and component_type in r.urn.rsplit("::", 1)[0]]
    if not members:
        pytest.skip(f"no {component_type} component in this program yet")
    for resource in kubernetes_objects(resources):
        if kind(resource) in kinds:
            assert set(members) & transitive_dependencies(resources, resource), resource.urn


@pytest.mark.parametrize("stack", STACKS)
def test_everything_scheduled_waits_for_the_cni(stack):
    _waits_for_component(stack, "eco2:platform:Calico", {"Deployment", "StatefulSet", "Job"})


@pytest.mark.parametrize("stack", STACKS)
def test_pod_monitors_wait_for_the_monitoring_stack(stack):
    _waits_for_component(stack, "eco2:platform:Monitoring", {"PodMonitor"})


@pytest.mark.parametrize("stack", STACKS)
def test_worker_metrics_sum_the_pool_processes_from_an_empty_dir(stack):
    resources = run_program(stack)
    for group in WORKER_GROUPS:
        (container,) = pod_spec(named(resources, "Deployment", f"worker-{group.name}"))["containers"]
        directory = env_of(container)["PROMETHEUS_MULTIPROC_DIR"]["value"]
        mounts = [mount["mountPath"] for mount in container["volumeMounts"]]
        assert any(directory.startswith(f"{path}/") for path in mounts)
    # Eco2WorkerDown selects up{job=~".*worker.*"}; a PodMonitor's job is <namespace>/<name>.
    monitor = named(resources, "PodMonitor", "workers")
    assert "worker" in f"{monitor.inputs['metadata']['namespace']}/{monitor.inputs['metadata']['name']}"
    rabbitmq = named(resources, "PodMonitor", "rabbitmq").inputs["spec"]["podMetricsEndpoints"]
    assert [endpoint["path"] for endpoint in rabbitmq] == ["/metrics/per-object"]
