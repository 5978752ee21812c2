"""The cluster's namespaces: one table read by the workloads, the NetworkPolicies and the monitoring stack."""

from __future__ import annotations

APP_NAMESPACE = "eco2"
"""API Deployments, Celery workers and the migration Job."""
DATA_NAMESPACE = "eco2-data"
"""PostgreSQL, Redis and RabbitMQ StatefulSets."""
MONITORING_NAMESPACE = "monitoring"
"""kube-prometheus-stack: Prometheus, Alertmanager, Grafana."""
TIGERA_OPERATOR_NAMESPACE = "tigera-operator"
"""The tigera operator (Calico's installer)."""
CALICO_SYSTEM_NAMESPACE = "calico-system"
"""Calico itself (calico-node, Typha, kube-controllers); created and owned by the operator."""
KUBE_SYSTEM_NAMESPACE = "kube-system"
"""Cluster add-ons: metrics-server, the kubelet CSR approver, the EBS CSI driver."""
