"""kube-prometheus-stack on the monitoring node: Prometheus (on a gp3 volume), Alertmanager and Grafana.

Grafana is served from the ``/grafana`` sub-path through the ALB (a listener rule and an instance target group
on the fixed NodePort of ``infra.ports.GRAFANA``); its admin password is a Pulumi secret that reaches the pod
only through a Kubernetes Secret. The app's dashboards (``platform/monitoring/dashboards/*.json``) become
ConfigMaps the Grafana sidecar loads, and its alert rules (``platform/monitoring/rules/*.yaml``, Prometheus
rule files) become PrometheusRule resources; Prometheus selects rules and monitors from every namespace.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import yaml

from eco2_platform.charts import KUBE_PROMETHEUS_STACK, chart_values, namespace, release
from eco2_platform.namespaces import MONITORING_NAMESPACE
from eco2_platform.storage_classes import DEFAULT_STORAGE_CLASS
from infra.config import MonitoringConfig
from infra.ports import GRAFANA
from infra.roles import MONITORING_ROLE, ROLES

MONITORING_DIR = Path(__file__).resolve().parents[1] / "monitoring"
DASHBOARDS_DIR = MONITORING_DIR / "dashboards"
RULES_DIR = MONITORING_DIR / "rules"
DASHBOARD_LABEL = "grafana_dashboard"
"""The label (value "1") the Grafana sidecar watches for, in every namespace."""
GRAFANA_ADMIN_SECRET = "grafana-admin"  # noqa: S105 - the Secret's name
GRAFANA_ADMIN_USER = "admin"
GRAFANA_PASSWORD_LENGTH = 32
PROMETHEUS_RULE_API_VERSION = "monitoring.coreos.com/v1"
ALERTMANAGER_VOLUME_GIB = 2
RETENTION_SIZE_SHARE = 0.85
"""Prometheus deletes the oldest blocks beyond this share of its volume, so a full disk never stops it."""
CONFIG_MAP_LIMIT_BYTES = 1_000_000
"""A ConfigMap holds at most 1 MiB; stay clear of it."""
_OBJECT_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class MonitoringAssetError(ValueError):
    """A dashboard or rule file cannot be loaded; the message names the file."""


@dataclass(frozen=True)
class Dashboard:
    name: str
    """Kubernetes object name (from the file name)."""
    file_name: str
    json_text: str


@dataclass(frozen=True)
class RuleFile:
    name: str
    spec: dict[str, Any]
    """The file as it is: ``{"groups": [...]}``, which is exactly a PrometheusRule's spec."""


def _object_name(path: Path, prefix: str) -> str:
    name = f"{prefix}-{path.stem.lower().replace('_', '-').replace('.', '-')}"
    if len(name) > 63 or not _OBJECT_NAME_RE.match(name):
        raise MonitoringAssetError(f"{path}: file name does not make a Kubernetes object name ({name!r})")
    return name


def load_dashboards(folder: Path = DASHBOARDS_DIR) -> list[Dashboard]:
    """Every ``*.json`` in ``folder`` (none is fine), each checked to be a JSON object small enough."""
    dashboards = []
    for path in sorted(folder.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise MonitoringAssetError(f"{path}: not valid JSON ({error.msg}, line {error.lineno})") from None
        if not isinstance(document, dict):
            raise MonitoringAssetError(f"{path}: a Grafana dashboard is a JSON object")
        if len(text.encode()) > CONFIG_MAP_LIMIT_BYTES:
            raise MonitoringAssetError(f"{path}: larger than a ConfigMap can hold (1 MB)")
        dashboards.append(Dashboard(_object_name(path, "dashboard"), path.name, text))
    return dashboards


def load_rule_files(folder: Path = RULES_DIR) -> list[RuleFile]:
    """Every ``*.yaml`` in ``folder`` (none is fine); each a Prometheus rules file (only ``groups:``)."""
    rule_files = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise MonitoringAssetError(f"{path}: not valid YAML ({error})") from None
        if not isinstance(document, dict) or set(document) != {"groups"}:
            raise MonitoringAssetError(f"{path}: a rules file has exactly one top-level key, groups")
        groups = document["groups"]
        if not isinstance(groups, list) or not groups:
            raise MonitoringAssetError(f"{path}: groups must be a non-empty list")
        rule_files.append(RuleFile(_object_name(path, "eco2"), document))
    return rule_files


def _on_monitoring_node() -> dict[str, Any]:
    role = ROLES[MONITORING_ROLE]
    return {"nodeSelector": role.node_selector, "tolerations": role.tolerations}


def _volume_claim(size_gib: int) -> dict[str, Any]:
    return {
        "volumeClaimTemplate": {
            "spec": {
                "storageClassName": DEFAULT_STORAGE_CLASS,
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": f"{size_gib}Gi"}},
            }
        }
    }


def grafana_root_url(domain: str) -> str:
    return f"https://{domain}{GRAFANA.path_prefix}/"


def monitoring_values(domain: str, config: MonitoringConfig) -> dict[str, Any]:
    """The chart's values file plus placement on the monitoring node, volumes, retention and Grafana's URL."""
    placement = _on_monitoring_node()
    health = {"httpGet": {"path": GRAFANA.health_check_path}}
    retention_size = int(config.prometheus_volume_gib * RETENTION_SIZE_SHARE)
    overrides = {
        "prometheus": {
            "prometheusSpec": {
                **placement,
                "retention": f"{config.prometheus_retention_days}d",
                "retentionSize": f"{retention_size}GB",
                "storageSpec": _volume_claim(config.prometheus_volume_gib),
            }
        },
        "alertmanager": {
            "alertmanagerSpec": {**placement, "storage": _volume_claim(ALERTMANAGER_VOLUME_GIB)}
        },
        "prometheusOperator": {**placement, "admissionWebhooks": {"patch": placement}},
        "kube-state-metrics": placement,
        "grafana": {
            **placement,
            "admin": {
                "existingSecret": GRAFANA_ADMIN_SECRET,
                "userKey": "admin-user",
                "passwordKey": "admin-password",
            },
            "service": {"nodePort": GRAFANA.node_port},
            "grafana.ini": {"server": {"domain": domain, "root_url": grafana_root_url(domain)}},
            # Probes take the same sub-path as the ALB's health check and the users.
            "readinessProbe": health,
            "livenessProbe": health,
        },
    }
    return chart_values(KUBE_PROMETHEUS_STACK, overrides)


@dataclass(frozen=True)
class MonitoringArgs:
    domain: str
    config: MonitoringConfig
    provider: k8s.Provider
    scheduling_ready: Sequence[pulumi.Resource]
    storage_class: pulumi.Resource
    """The gp3 class of the Prometheus and Alertmanager claims. Not the driver: those claims come from the
    Prometheus operator after the chart and Helm does not wait for them, so the chart need not wait for it."""
    dashboards_dir: Path = DASHBOARDS_DIR
    rules_dir: Path = RULES_DIR


class Monitoring(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    grafana_admin_password: pulumi.Output[str]
    """Secret; also a stack output for the first sign-in."""

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eco2:platform:Monitoring", name, None, opts)
        provider = args.provider
        in_namespace = namespace(MONITORING_NAMESPACE, privileged=True, parent=self, provider=provider)
        namespace_name = in_namespace.metadata.name
        child = pulumi.ResourceOptions(parent=self, provider=provider)

        password = random.RandomPassword(
            "grafana-admin-password",
            length=GRAFANA_PASSWORD_LENGTH,
            special=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.grafana_admin_password = pulumi.Output.secret(password.result)
        admin_secret = k8s.core.v1.Secret(
            "grafana-admin",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=GRAFANA_ADMIN_SECRET, namespace=namespace_name),
            type="Opaque",
            string_data={"admin-user": GRAFANA_ADMIN_USER, "admin-password": self.grafana_admin_password},
            opts=child,
        )

        for dashboard in load_dashboards(args.dashboards_dir):
            k8s.core.v1.ConfigMap(
                dashboard.name,
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=dashboard.name, namespace=namespace_name, labels={DASHBOARD_LABEL: "1"}
                ),
                data={dashboard.file_name: dashboard.json_text},
                opts=child,
            )

        self.release = release(
            "kube-prometheus-stack",
            KUBE_PROMETHEUS_STACK,
            namespace=namespace_name,
            values=monitoring_values(args.domain, args.config),
            parent=self,
            provider=provider,
            depends_on=[*args.scheduling_ready, args.storage_class, admin_secret],
        )

        for rule_file in load_rule_files(args.rules_dir):
            k8s.apiextensions.CustomResource(
                rule_file.name,
                api_version=PROMETHEUS_RULE_API_VERSION,
                kind="PrometheusRule",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=rule_file.name, namespace=namespace_name),
                spec=rule_file.spec,
                # The CRD and the operator's validating webhook come with the chart.
                opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[self.release]),
            )
        self.register_outputs({"grafanaUrl": grafana_root_url(args.domain)})
