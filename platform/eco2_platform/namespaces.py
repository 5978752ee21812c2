"""The cluster's namespaces: one table read by the workloads, the NetworkPolicies and the monitoring stack."""

from __future__ import annotations

APP_NAMESPACE = "eco2"
"""API Deployments, Celery workers and the migration Job."""
DATA_NAMESPACE = "eco2-data"
"""PostgreSQL, Redis and RabbitMQ StatefulSets."""
MONITORING_NAMESPACE = "monitoring"
"""kube-prometheus-stack: Prometheus, Alertmanager, Grafana."""
