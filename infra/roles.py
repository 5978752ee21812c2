"""What each node role is for: its Kubernetes label/taint, IAM profile and how many nodes it may have.

Labels use the ``eco2.io/`` prefix because the NodeRestriction admission plugin forbids a kubelet from setting
``node-role.kubernetes.io/*`` labels on itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

ROLE_LABEL = "eco2.io/role"
"""Node label carrying the role; workloads select and tolerate on it."""
TAINT_EFFECT = "NoSchedule"


class IamProfile(StrEnum):
    """Which instance profile a role's nodes get (see infra/components/iam.py)."""

    CONTROL_PLANE = "control-plane"
    APP = "app"  # API and Celery nodes: also read/write the image bucket
    STATEFUL = "stateful"


@dataclass(frozen=True)
class RoleSpec:
    name: str
    purpose: str
    iam_profile: IamProfile
    tainted: bool
    """Tainted roles take only pods that tolerate ``eco2.io/role=<name>:NoSchedule``."""
    scalable: bool
    """Scalable roles may have several nodes; the others exactly one."""

    @property
    def taints(self) -> list[dict[str, str]]:
        """Taints the role's nodes register with (kubeadm ``nodeRegistration.taints``)."""
        return [{"key": ROLE_LABEL, "value": self.name, "effect": TAINT_EFFECT}] if self.tainted else []

    @property
    def tolerations(self) -> list[dict[str, str]]:
        """What a pod spec needs to be scheduled on this role's nodes."""
        return [{**taint, "operator": "Equal"} for taint in self.taints]

    @property
    def node_selector(self) -> dict[str, str]:
        """Pins a pod to this role's nodes."""
        return {ROLE_LABEL: self.name}


CONTROL_PLANE_ROLE = "master"
API_ROLE = "api"
"""The nodes behind the ALB's API target groups."""
ASYNC_ROLE = "async"
"""The nodes of the Celery workers and beat."""
MONITORING_ROLE = "monitoring"
"""The node of Prometheus and Grafana, behind the ALB's Grafana target group."""

ROLES: dict[str, RoleSpec] = {
    spec.name: spec
    for spec in (
        RoleSpec(
            "master", "Kubernetes control plane", IamProfile.CONTROL_PLANE, tainted=False, scalable=False
        ),
        RoleSpec("api", "FastAPI service pods (worker-1)", IamProfile.APP, tainted=False, scalable=True),
        RoleSpec("async", "Celery worker pods (worker-2)", IamProfile.APP, tainted=False, scalable=True),
        RoleSpec("monitoring", "Prometheus and Grafana", IamProfile.STATEFUL, tainted=True, scalable=False),
        RoleSpec("postgresql", "PostgreSQL", IamProfile.STATEFUL, tainted=True, scalable=False),
        RoleSpec("rabbitmq", "RabbitMQ", IamProfile.STATEFUL, tainted=True, scalable=False),
        RoleSpec("redis", "Redis", IamProfile.STATEFUL, tainted=True, scalable=False),
    )
}
"""Every role, in the order nodes are created. The master keeps kubeadm's own control-plane taint."""
