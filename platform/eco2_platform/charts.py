"""The pinned Helm charts of the platform, their values files, and the one way a release is created.

Every chart is a ``helm.v3.Release`` (``helm.v4.Chart`` renders nothing at preview while the cluster is
created in the same program) with an exact version, read from the chart's own ``values.yaml`` at that version.
Static values live in ``platform/values/<chart>.yaml``; what depends on the stack (node roles, sizes, the
domain) is merged on top by the components' pure ``*_values`` functions.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

VALUES_DIR = Path(__file__).resolve().parents[1] / "values"
RELEASE_TIMEOUT_SECONDS = 900
"""How long ``helm install/upgrade`` waits for a release's workloads to become ready."""


@dataclass(frozen=True)
class ChartPin:
    """One chart at one exact version from its publisher's repository."""

    chart: str
    version: str
    repository: str
    source: str
    """Where the chart's values.yaml was read (repository path at the pinned version)."""

    @property
    def values_file(self) -> Path:
        return VALUES_DIR / f"{self.chart}.yaml"


TIGERA_OPERATOR = ChartPin(
    chart="tigera-operator",
    version="v3.32.1",
    repository="https://docs.tigera.io/calico/charts",
    source="projectcalico/calico charts/tigera-operator @ v3.32.1 (operator v1.42.3)",
)
KUBELET_CSR_APPROVER = ChartPin(
    chart="kubelet-csr-approver",
    version="1.2.14",
    repository="https://postfinance.github.io/kubelet-csr-approver",
    source="postfinance/kubelet-csr-approver charts/kubelet-csr-approver @ v1.2.14",
)
METRICS_SERVER = ChartPin(
    chart="metrics-server",
    version="3.13.1",
    repository="https://kubernetes-sigs.github.io/metrics-server/",
    source="kubernetes-sigs/metrics-server charts/metrics-server @ metrics-server-helm-chart-3.13.1 (0.8.1)",
)
AWS_EBS_CSI_DRIVER = ChartPin(
    chart="aws-ebs-csi-driver",
    version="2.64.0",
    repository="https://kubernetes-sigs.github.io/aws-ebs-csi-driver",
    source="kubernetes-sigs/aws-ebs-csi-driver charts/aws-ebs-csi-driver "
    "@ helm-chart-aws-ebs-csi-driver-2.64.0",
)
KUBE_PROMETHEUS_STACK = ChartPin(
    chart="kube-prometheus-stack",
    version="88.5.3",
    repository="https://prometheus-community.github.io/helm-charts",
    source="prometheus-community/helm-charts charts/kube-prometheus-stack @ kube-prometheus-stack-88.5.3 "
    "(Grafana chart 12.11.1)",
)

CHARTS: tuple[ChartPin, ...] = (
    TIGERA_OPERATOR,
    KUBELET_CSR_APPROVER,
    METRICS_SERVER,
    AWS_EBS_CSI_DRIVER,
    KUBE_PROMETHEUS_STACK,
)
"""Every chart the platform installs: one row each, so versions are bumped (and reviewed) in one place."""


def load_values(pin: ChartPin) -> dict[str, Any]:
    """The chart's static values file as a mapping; a missing or non-mapping file is an error naming it."""
    path = pin.values_file
    if not path.is_file():
        raise FileNotFoundError(f"values file for chart {pin.chart} is missing: {path}")
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{path}: chart values must be a mapping at the top level")
    return document


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's merge of values: mappings merge key by key, anything else in ``override`` replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = merge(current, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def chart_values(pin: ChartPin, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The values file of ``pin`` with the stack-dependent ``overrides`` merged on top."""
    return merge(load_values(pin), overrides or {})


def release(
    name: str,
    pin: ChartPin,
    *,
    namespace: pulumi.Input[str],
    values: pulumi.Input[Mapping[str, Any]],
    parent: pulumi.Resource,
    provider: k8s.Provider,
    depends_on: Sequence[pulumi.Resource],
) -> k8s.helm.v3.Release:
    """A Helm release of a pinned chart that waits for its workloads and rolls back a failed upgrade."""
    return k8s.helm.v3.Release(
        name,
        name=name,
        chart=pin.chart,
        version=pin.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=pin.repository),
        namespace=namespace,
        values=values,
        atomic=True,
        cleanup_on_fail=True,
        timeout=RELEASE_TIMEOUT_SECONDS,
        max_history=5,
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=list(depends_on)),
    )


def namespace(
    name: str, *, privileged: bool, parent: pulumi.Resource, provider: k8s.Provider
) -> k8s.core.v1.Namespace:
    """A platform namespace. ``privileged`` for agents that need the host (hostNetwork, hostPath)."""
    return k8s.core.v1.Namespace(
        f"namespace-{name}",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=name,
            labels={
                "app.kubernetes.io/part-of": "eco2-platform",
                "pod-security.kubernetes.io/enforce": "privileged" if privileged else "baseline",
            },
        ),
        opts=pulumi.ResourceOptions(parent=parent, provider=provider),
    )
