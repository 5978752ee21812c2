"""kube-prometheus-stack on the monitoring node; Grafana at /grafana; dashboards and rules from platform/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from eco2_platform import monitoring
from eco2_platform.monitoring import (
    GRAFANA_ADMIN_SECRET,
    MonitoringAssetError,
    load_dashboards,
    load_rule_files,
)
from eco2_platform.namespaces import MONITORING_NAMESPACE
from eco2_platform.storage_classes import DEFAULT_STORAGE_CLASS
from infra.roles import ROLES
from tests.support.crd_schema import validate_custom_resource
from tools.plan.harness import STACKS, by_name, execute, of_type, run_program, transitive_dependencies

RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
VOLUME_GIB = {"dev": 10, "prod": 50}
RETENTION_DAYS = {"dev": 7, "prod": 30}
RULES_FILE = """\
groups:
  - name: eco2-api
    rules:
      - alert: Eco2ApiDown
        expr: up{job="eco2-api"} == 0
        for: 5m
        labels: {severity: critical}
        annotations: {summary: "An API target is down"}
"""


def values(stack: str) -> dict[str, Any]:
    chart_values: dict[str, Any] = by_name(run_program(stack), RELEASE, "kube-prometheus-stack").inputs[
        "values"
    ]
    return chart_values


@pytest.mark.parametrize("stack", STACKS)
def test_every_component_runs_on_the_monitoring_node(stack):
    chart = values(stack)
    role = ROLES["monitoring"]
    placed = [
        chart["prometheus"]["prometheusSpec"],
        chart["alertmanager"]["alertmanagerSpec"],
        chart["grafana"],
        chart["prometheusOperator"],
        chart["prometheusOperator"]["admissionWebhooks"]["patch"],
        chart["kube-state-metrics"],
    ]
    for spec in placed:
        assert spec["nodeSelector"] == {"eco2.io/role": "monitoring"} == role.node_selector
        assert spec["tolerations"] == [
            {"key": "eco2.io/role", "value": "monitoring", "effect": "NoSchedule", "operator": "Equal"}
        ]
    # node-exporter is the exception: it runs everywhere.
    assert chart["prometheus-node-exporter"]["tolerations"] == [{"operator": "Exists"}]


@pytest.mark.parametrize("stack", STACKS)
def test_prometheus_keeps_its_data_on_the_gp3_class_sized_per_stack(stack):
    spec = values(stack)["prometheus"]["prometheusSpec"]
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == DEFAULT_STORAGE_CLASS
    assert claim["resources"]["requests"]["storage"] == f"{VOLUME_GIB[stack]}Gi"
    assert spec["retention"] == f"{RETENTION_DAYS[stack]}d"
    assert int(spec["retentionSize"].removesuffix("GB")) < VOLUME_GIB[stack]


@pytest.mark.parametrize("stack", STACKS)
def test_prometheus_selects_rules_and_monitors_from_every_namespace(stack):
    spec = values(stack)["prometheus"]["prometheusSpec"]
    for kind in ("rule", "serviceMonitor", "podMonitor", "probe", "scrapeConfig"):
        assert spec[f"{kind}SelectorNilUsesHelmValues"] is False, kind


@pytest.mark.parametrize("stack", STACKS)
def test_the_release_waits_for_the_cni_and_the_storage(stack):
    resources = run_program(stack)
    release = by_name(resources, RELEASE, "kube-prometheus-stack")
    installation = by_name(resources, "kubernetes:operator.tigera.io/v1:Installation", "calico-installation")
    storage_class = by_name(resources, "kubernetes:storage.k8s.io/v1:StorageClass", "storage-class-gp3")
    driver = by_name(resources, RELEASE, "aws-ebs-csi-driver")
    assert {installation.urn, storage_class.urn} <= set(release.dependencies)
    # The claims are the Prometheus operator's, made after the chart: the two charts install in parallel.
    assert driver.urn not in transitive_dependencies(resources, release)
    assert release.inputs["namespace"] == MONITORING_NAMESPACE


@pytest.mark.parametrize("stack", STACKS)
def test_grafana_admin_password_is_a_secret_only_in_a_kubernetes_secret(stack):
    resources = run_program(stack)
    secret = by_name(resources, "kubernetes:core/v1:Secret", "grafana-admin")
    assert "stringData" in secret.secret_inputs
    password = secret.inputs["stringData"]["admin-password"]
    assert len(password) == monitoring.GRAFANA_PASSWORD_LENGTH
    grafana = values(stack)["grafana"]
    assert grafana["admin"]["existingSecret"] == GRAFANA_ADMIN_SECRET == secret.inputs["metadata"]["name"]
    assert "adminPassword" not in grafana
    release = by_name(resources, RELEASE, "kube-prometheus-stack")
    assert password not in json.dumps(release.inputs)
    assert secret.urn in release.dependencies


def test_dashboards_and_rule_files_are_loaded_from_their_folders(tmp_path):
    (tmp_path / "API_latency.json").write_text('{"title": "API latency", "panels": []}')
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / "api.yaml").write_text(RULES_FILE)
    (dashboard,) = load_dashboards(tmp_path)
    assert (dashboard.name, dashboard.file_name) == ("dashboard-api-latency", "API_latency.json")
    (rules,) = load_rule_files(tmp_path)
    assert rules.name == "eco2-api"
    assert rules.spec["groups"][0]["rules"][0]["alert"] == "Eco2ApiDown"
    assert load_dashboards(tmp_path / "missing") == [] == load_rule_files(tmp_path / "missing")


@pytest.mark.parametrize(
    ("file_name", "text", "message"),
    [
        ("broken.json", "{", "not valid JSON"),
        ("list.json", "[]", "a Grafana dashboard is a JSON object"),
        ("Bad Name!.json", "{}", "does not make a Kubernetes object name"),
    ],
)
def test_a_bad_dashboard_is_refused_naming_the_file(tmp_path, file_name, text, message):
    (tmp_path / file_name).write_text(text)
    with pytest.raises(MonitoringAssetError, match=message) as error:
        load_dashboards(tmp_path)
    assert file_name in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("groups: [", "not valid YAML"),
        ("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\n", "exactly one top-level key"),
        ("groups: []\n", "non-empty list"),
    ],
)
def test_a_bad_rules_file_is_refused_naming_the_file(tmp_path, text, message):
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(MonitoringAssetError, match=message) as error:
        load_rule_files(tmp_path)
    assert "bad.yaml" in str(error.value)


def prometheus_rule(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "eco2-api", "namespace": MONITORING_NAMESPACE},
        "spec": spec,
    }


def test_a_rules_file_is_a_valid_prometheus_rule_spec_and_a_broken_one_is_not(tmp_path):
    (tmp_path / "api.yaml").write_text(RULES_FILE)
    (rules,) = load_rule_files(tmp_path)
    validate_custom_resource(prometheus_rule(rules.spec))
    broken = {"groups": [{"name": "eco2-api", "rules": [{"alert": "X", "expression": "up == 0"}]}]}
    with pytest.raises(jsonschema.ValidationError):
        validate_custom_resource(prometheus_rule(broken))


@pytest.mark.parametrize("stack", STACKS)
def test_every_file_in_the_folders_becomes_a_resource(stack):
    """The contract with the observability work: whatever lies in platform/monitoring is deployed."""
    resources = run_program(stack)
    config_maps = {r.name: r for r in of_type(resources, CONFIG_MAP)}
    for dashboard in load_dashboards():
        manifest = config_maps[dashboard.name].inputs
        assert manifest["metadata"]["labels"] == {"grafana_dashboard": "1"}
        assert manifest["data"] == {dashboard.file_name: dashboard.json_text}
    rules = {r.name: r for r in of_type(resources, PROMETHEUS_RULE)}
    assert set(rules) == {rule_file.name for rule_file in load_rule_files()}
    for resource in rules.values():
        validate_custom_resource(resource.inputs)


def test_a_dashboard_and_a_rules_file_dropped_in_platform_are_deployed():
    """The program globs the folders: new files show up as a labelled ConfigMap and a PrometheusRule."""
    dashboard = monitoring.DASHBOARDS_DIR / "zz-test-probe.json"
    rules = monitoring.RULES_DIR / "zz-test-probe.yaml"
    created: list[Path] = []
    try:
        for path, text in ((dashboard, '{"title": "probe"}'), (rules, RULES_FILE)):
            assert not path.exists()
            path.write_text(text)
            created.append(path)
        resources = execute("dev").resources
    finally:
        for path in created:
            path.unlink()
    config_map = by_name(resources, CONFIG_MAP, "dashboard-zz-test-probe")
    assert config_map.inputs["metadata"]["namespace"] == MONITORING_NAMESPACE
    assert config_map.inputs["metadata"]["labels"] == {"grafana_dashboard": "1"}
    rule = by_name(resources, PROMETHEUS_RULE, "eco2-zz-test-probe")
    validate_custom_resource(rule.inputs)
    release = by_name(resources, RELEASE, "kube-prometheus-stack")
    assert release.urn in rule.dependencies  # the CRD and the operator's webhook come with the chart
