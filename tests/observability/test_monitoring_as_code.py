"""Dashboards and alert rules as code: valid, loadable by the platform layer, tested with promtool, and
reading only metrics that exist (the app's own, or those of the exporters the cluster runs)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY
from sqlalchemy import create_engine

from tests.support.promql import metric_names

MONITORING = Path(__file__).resolve().parents[2] / "platform" / "monitoring"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "observability.md"
DASHBOARDS = sorted((MONITORING / "dashboards").glob("*.json"))
RULE_FILES = sorted((MONITORING / "rules").glob("*.yaml"))
RULE_TESTS = sorted((MONITORING / "tests").glob("*.yaml"))

# Metrics of the exporters the platform runs, names checked against Debian's exporters and RabbitMQ 3.10's
# plugin: rabbitmq_prometheus (per-object endpoint), node-exporter, postgres_exporter, redis_exporter, the
# kubelet, the blackbox exporter, and Prometheus's own `up`.
EXPORTER_METRICS = frozenset(
    {
        "up",
        "rabbitmq_queue_messages",
        "rabbitmq_queue_messages_ready",
        "rabbitmq_queue_messages_unacked",
        "rabbitmq_queue_consumers",
        "node_filesystem_avail_bytes",
        "node_filesystem_size_bytes",
        "node_cpu_seconds_total",
        "node_memory_MemAvailable_bytes",
        "node_memory_MemTotal_bytes",
        "kubelet_volume_stats_used_bytes",
        "kubelet_volume_stats_capacity_bytes",
        "kubelet_volume_stats_inodes_used",
        "kubelet_volume_stats_inodes",
        "probe_ssl_earliest_cert_expiry",
        "pg_up",
        "pg_stat_database_numbackends",
        "pg_settings_max_connections",
        "redis_up",
        "redis_memory_used_bytes",
        "redis_connected_clients",
        "redis_keyspace_hits_total",
        "redis_keyspace_misses_total",
    }
)
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def app_metrics() -> set[str]:
    """Every series name the API and the worker can export, the scrape-time collector's included."""
    import apps.main
    import apps.worker  # noqa: F401
    from apps.waste.metrics import QueuedJobsCollector

    collector = QueuedJobsCollector(create_engine("postgresql+psycopg://"))  # describe() does not connect
    families = [*REGISTRY.collect(), *collector.describe()]
    return {f"{family.name}{suffix}" for family in families for suffix in SUFFIXES.get(family.type, ("",))}


def dashboard_exprs() -> list[tuple[str, str]]:
    found = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            found += [(f"{path.name}: {panel['title']}", target["expr"]) for target in panel["targets"]]
    return found


def rules() -> list[dict[str, Any]]:
    return [
        rule
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


def test_promql_names_are_extracted() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (route, le) (rate(eco2_x_bucket{route!="/a/{id}"}[$__range])))'
        " / on (job) up > bool 1"
    )
    assert metric_names(expr) == {"eco2_x_bucket", "up"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_a_dashboard_is_a_provisionable_grafana_model(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"] == path.stem and dashboard["title"].startswith("Eco²")
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    for panel in dashboard["panels"]:
        assert panel["title"] and panel["targets"], panel
        assert panel["datasource"]["uid"] == "${datasource}"
        assert {"h", "w", "x", "y"} <= panel["gridPos"].keys()
        assert all(target["expr"].strip() for target in panel["targets"])


def test_every_query_reads_metrics_that_exist() -> None:
    known = app_metrics() | EXPORTER_METRICS
    queries = dashboard_exprs() + [(rule["alert"], rule["expr"]) for rule in rules()]
    unknown = {(where, name) for where, expr in queries for name in metric_names(expr) - known}
    assert not unknown, sorted(unknown)


def test_the_dashboards_cover_what_the_issue_asks_for() -> None:
    titles = {json.loads(path.read_text())["title"]: path for path in DASHBOARDS}
    panels = " | ".join(title for where, _ in dashboard_exprs() for title in [where])
    for wanted in (
        "Scan funnel",
        "p50 per route",
        "p99 per route",
        "Queue depth",
        "Oldest queued job age",
        "Dead letters",
        "Analyzer mix",
        "Fallback rate",
        "Worker saturation",
        "Node disk",
        "PVC used",
    ):
        assert wanted in panels, wanted
    assert len(titles) == len(DASHBOARDS)


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda path: path.name)
def test_a_rules_file_is_only_groups_as_a_prometheusrule_spec_takes(path: Path) -> None:
    document = yaml.safe_load(path.read_text())
    assert list(document) == ["groups"]
    for group in document["groups"]:
        assert set(group) == {"name", "rules"}


def test_every_alert_is_labelled_explained_and_has_a_runbook() -> None:
    docs = DOCS.read_text()
    names = [rule["alert"] for rule in rules()]
    assert len(names) == len(set(names))
    for rule in rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"]
        assert annotations["runbook_url"] == f"docs/observability.md#{rule['alert'].lower()}"
        section = re.search(rf"^#### {rule['alert']}\n(.+?)(?=^#)", docs, re.MULTILINE | re.DOTALL)
        assert section and "Runbook" in section.group(1), (
            f"docs/observability.md has no runbook for {rule['alert']}"
        )


def test_every_alert_has_a_firing_and_a_quiet_promtool_case() -> None:
    cases: dict[str, set[bool]] = {}
    for path in RULE_TESTS:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for check in test.get("alert_rule_test", []):
                cases.setdefault(check["alertname"], set()).add(bool(check.get("exp_alerts")))
    for rule in rules():
        assert cases.get(rule["alert"]) == {True, False}, rule["alert"]


PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (apt-get install prometheus; .ci/run installs it)"
)


@needs_promtool
def test_promtool_accepts_the_rules() -> None:
    assert PROMTOOL is not None
    completed = subprocess.run(
        [PROMTOOL, "check", "rules", *map(str, RULE_FILES)], capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


@needs_promtool
def test_promtool_unit_tests_of_the_alerts_pass() -> None:
    assert PROMTOOL is not None
    completed = subprocess.run(
        [PROMTOOL, "test", "rules", *map(str, RULE_TESTS)],
        capture_output=True,
        text=True,
        cwd=MONITORING / "tests",
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


@needs_promtool
def test_the_local_prometheus_config_is_valid_once_rendered(tmp_path: Path) -> None:
    """As scripts/up.sh renders it: ports and the rules directory filled in."""
    assert PROMTOOL is not None
    template = (MONITORING / "local" / "prometheus.yml").read_text()
    rendered = (
        template.replace("@API_PORT@", "8000")
        .replace("@WORKER_METRICS_PORT@", "9100")
        .replace("@RULES_DIR@", str(MONITORING / "rules"))
    )
    assert not any("@" in line.split("#")[0] for line in rendered.splitlines()), "every placeholder filled"
    config = tmp_path / "prometheus.yml"
    config.write_text(rendered)
    completed = subprocess.run([PROMTOOL, "check", "config", str(config)], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "2 rule files found" in completed.stdout + completed.stderr
