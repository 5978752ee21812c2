"""The app and the cluster layer agree on where metrics are served."""

from __future__ import annotations

from apps.core.observability.metrics import METRICS_PATH
from apps.core.settings import Settings
from infra import ports


def test_the_worker_metrics_port_default_is_the_port_the_cluster_scrapes() -> None:
    assert Settings.model_fields["worker_metrics_port"].default == ports.WORKER_METRICS_PORT


def test_the_metrics_path_is_the_one_the_cluster_scrapes() -> None:
    assert METRICS_PATH == ports.METRICS_PATH


def test_the_metrics_path_is_not_under_a_public_alb_prefix() -> None:
    assert not any(METRICS_PATH.startswith(route.path_prefix) for route in ports.API_ROUTES)
