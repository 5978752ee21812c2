"""PostgreSQL, Redis and RabbitMQ: each on its own node, on the gp3 class at the stack's sizes, behind a
headless Service, with generated credentials passed only through Secrets, exporters and a budget."""

from __future__ import annotations

import json
import re

import pytest

from eco2_platform.data.component import RABBITMQ_IMAGE, rabbitmq_conf
from eco2_platform.data.endpoints import DATA_ENDPOINTS, RABBITMQ, broker_url, database_url, redis_url
from eco2_platform.namespaces import DATA_NAMESPACE
from eco2_platform.storage_classes import DEFAULT_STORAGE_CLASS
from infra.roles import ROLES
from tests.support.kubernetes import containers, env_of, named, objects_of_kind, pod_spec
from tools.plan.harness import STACKS, of_type, run_program, transitive_dependencies
from tools.plan.stack_runner import stack_config

TAGGED_IMAGE = re.compile(r"^[a-z0-9.-]+(/[a-z0-9._-]+)+:(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def sizing(stack: str) -> dict[str, int]:
    value: dict[str, int] = json.loads(stack_config(stack)["eco2:workloads"])
    return value


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("endpoint", DATA_ENDPOINTS, ids=lambda endpoint: endpoint.name)
def test_each_data_service_runs_alone_on_its_own_node(stack, endpoint):
    statefulset = named(run_program(stack), "StatefulSet", endpoint.name)
    assert statefulset.inputs["metadata"]["namespace"] == DATA_NAMESPACE
    assert statefulset.inputs["spec"]["replicas"] == 1
    spec = pod_spec(statefulset)
    role = ROLES[endpoint.name]
    assert spec["nodeSelector"] == role.node_selector
    assert role.tainted
    assert spec["tolerations"] == role.tolerations


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("endpoint", DATA_ENDPOINTS, ids=lambda endpoint: endpoint.name)
def test_data_lives_on_a_claim_of_the_stack_size(stack, endpoint):
    statefulset = named(run_program(stack), "StatefulSet", endpoint.name).inputs["spec"]
    (claim,) = statefulset["volumeClaimTemplates"]
    assert claim["spec"]["storageClassName"] == DEFAULT_STORAGE_CLASS
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    size = sizing(stack)[f"{endpoint.name}VolumeGiB"]
    assert claim["spec"]["resources"]["requests"]["storage"] == f"{size}Gi"
    (server,) = [c for c in statefulset["template"]["spec"]["containers"] if c["name"] == endpoint.name]
    assert claim["metadata"]["name"] in {mount["name"] for mount in server["volumeMounts"]}


def test_prod_sizes_are_the_seeds():
    assert sizing("prod")["postgresqlVolumeGiB"] == 50
    assert sizing("prod")["rabbitmqVolumeGiB"] == 20
    assert sizing("dev")["postgresqlVolumeGiB"] < 50


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("endpoint", DATA_ENDPOINTS, ids=lambda endpoint: endpoint.name)
def test_a_headless_service_and_a_budget_select_the_pod(stack, endpoint):
    resources = run_program(stack)
    statefulset = named(resources, "StatefulSet", endpoint.name).inputs["spec"]
    labels = statefulset["template"]["metadata"]["labels"]
    service = named(resources, "Service", endpoint.name).inputs["spec"]
    assert service["clusterIP"] == "None"
    assert statefulset["serviceName"] == endpoint.name
    assert service["selector"].items() <= labels.items()
    assert {port["port"] for port in service["ports"]} == {endpoint.port, endpoint.metrics_port}
    budget = named(resources, "PodDisruptionBudget", endpoint.name).inputs["spec"]
    assert budget["selector"]["matchLabels"].items() <= labels.items()
    assert budget["minAvailable"] == 1
    ports = {
        port["containerPort"] for c in statefulset["template"]["spec"]["containers"] for port in c["ports"]
    }
    assert {endpoint.port, endpoint.metrics_port} <= ports


@pytest.mark.parametrize("stack", STACKS)
def test_images_are_pinned_by_tag(stack):
    for statefulset in objects_of_kind(run_program(stack), "StatefulSet"):
        for container in containers(statefulset):
            assert TAGGED_IMAGE.match(container["image"]), container["image"]


def test_rabbitmq_supports_quorum_queues_with_delivery_limits():
    major, minor = (int(part) for part in RABBITMQ_IMAGE.rsplit(":", 1)[1].split(".")[:2])
    assert (major, minor) >= (3, 13)


@pytest.mark.parametrize("stack", STACKS)
def test_rabbitmq_exports_metrics_and_declares_no_queue(stack):
    secret = named(run_program(stack), "Secret", "rabbitmq-credentials")
    config = secret.inputs["stringData"]["rabbitmq.conf"]
    assert f"prometheus.tcp.port = {RABBITMQ.metrics_port}" in config
    assert "prometheus.return_per_object_metrics = true" in config  # per-queue depth for the dashboards
    assert "rabbitmq_prometheus" in secret.inputs["stringData"]["enabled_plugins"]
    # The app declares its topology at start-up from its one table; the broker's config names no queue.
    assert "queue" not in config and "definitions" not in config
    assert "stringData" in secret.secret_inputs


@pytest.mark.parametrize("stack", STACKS)
def test_credentials_are_generated_and_reach_pods_only_through_secrets(stack):
    resources = run_program(stack)
    passwords = {p.name: p for p in of_type(resources, "random:index/randomPassword:RandomPassword")}
    for endpoint in DATA_ENDPOINTS:
        assert passwords[f"{endpoint.name}-password"].inputs["length"] >= 32
        secret = named(resources, "Secret", f"{endpoint.name}-credentials")
        assert secret.inputs["metadata"]["namespace"] == DATA_NAMESPACE
        assert "stringData" in secret.secret_inputs
    postgres = env_of(pod_spec(named(resources, "StatefulSet", "postgresql"))["containers"][0])
    assert postgres["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "postgresql-credentials",
        "key": "password",
    }
    redis = pod_spec(named(resources, "StatefulSet", "redis"))["containers"][0]
    assert not any("requirepass" in arg and len(arg) > len("requirepass") for arg in redis["args"])


@pytest.mark.parametrize("stack", STACKS)
def test_exporters_run_beside_postgresql_and_redis(stack):
    resources = run_program(stack)
    for name in ("postgresql", "redis"):
        exporter = next(
            c
            for c in pod_spec(named(resources, "StatefulSet", name))["containers"]
            if c["name"] == "exporter"
        )
        assert exporter["ports"][0]["name"] == "metrics"
        assert exporter["image"].startswith(("quay.io/prometheuscommunity/", "quay.io/oliver006/"))


def test_connection_urls_escape_the_password_and_name_the_headless_services():
    assert database_url("p@ss/word") == (
        "postgresql+psycopg://eco2:p%40ss%2Fword@postgresql.eco2-data.svc.cluster.local:5432/eco2"
    )
    assert redis_url("secret") == "redis://:secret@redis.eco2-data.svc.cluster.local:6379/0"
    assert broker_url("secret") == "amqp://eco2:secret@rabbitmq.eco2-data.svc.cluster.local:5672/eco2"


def test_rabbitmq_memory_alarm_trips_below_the_container_limit():
    config = rabbitmq_conf("pw")
    assert "total_memory_available_override_value = 1073741824" in config
    assert "default_pass = pw" in config


@pytest.mark.parametrize("stack", STACKS)
def test_data_services_wait_for_the_storage_their_claims_name(stack):
    resources = run_program(stack)
    (storage_class,) = objects_of_kind(resources, "StorageClass")
    assert storage_class.inputs["metadata"]["name"] == DEFAULT_STORAGE_CLASS
    for statefulset in objects_of_kind(resources, "StatefulSet"):
        assert storage_class.urn in transitive_dependencies(resources, statefulset), statefulset.urn
