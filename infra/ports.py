"""The one place where public routes meet NodePorts.

The ALB forwards each API path prefix to an instance target group on a fixed NodePort; the workloads issue
creates one Kubernetes Service per domain with exactly that ``nodePort``. Both sides import this table, so the
listener rule, the target group, the security-group rule and the Service can never disagree. Grafana (the
platform's monitoring stack, at ``/grafana``) is routed the same way from ``GRAFANA``.
"""

from __future__ import annotations

from dataclasses import dataclass

NODE_PORT_RANGE = range(30000, 32768)
"""Kubernetes' default ``--service-node-port-range`` (30000-32767)."""

CONTAINER_PORT = 8000
"""Port the API container (uvicorn) listens on; the Services target it."""

HEALTH_CHECK_PATH = "/healthz"
"""Unauthenticated liveness path every API service answers; used by the ALB target-group health checks."""


@dataclass(frozen=True)
class ApiRoute:
    """One API domain: its public path prefix, Kubernetes Service name and fixed NodePort."""

    service: str
    path_prefix: str
    node_port: int
    health_check_path: str = HEALTH_CHECK_PATH
    """What the ALB target group checks (and the Service's readiness probe answers)."""

    @property
    def path_patterns(self) -> tuple[str, str]:
        """ALB path patterns: the prefix itself and everything below it."""
        return (self.path_prefix, f"{self.path_prefix}/*")


API_ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute(service="auth", path_prefix="/api/v1/auth", node_port=30081),
    ApiRoute(service="users", path_prefix="/api/v1/users", node_port=30082),
    ApiRoute(service="waste", path_prefix="/api/v1/waste", node_port=30083),
    ApiRoute(service="recycling", path_prefix="/api/v1/recycling", node_port=30084),
    ApiRoute(service="locations", path_prefix="/api/v1/locations", node_port=30085),
)


GRAFANA = ApiRoute(
    service="grafana", path_prefix="/grafana", node_port=30300, health_check_path="/grafana/api/health"
)
"""Grafana behind the ALB (served from the ``/grafana`` sub-path); its Service is the monitoring chart's."""
PUBLIC_ROUTES: tuple[ApiRoute, ...] = (*API_ROUTES, GRAFANA)
"""Every path the ALB forwards to a NodePort: the API services and Grafana."""


def route_for(service: str) -> ApiRoute:
    """The route of one API service; raises KeyError naming the service if it does not exist."""
    for route in API_ROUTES:
        if route.service == service:
            return route
    raise KeyError(f"no API route for service {service!r}; known: {', '.join(r.service for r in API_ROUTES)}")


METRICS_PATH = "/metrics"
"""Prometheus scrape path. The API serves it on CONTAINER_PORT (the ALB forwards only the /api/v1 prefixes,
so it is never public); each Celery worker serves it on WORKER_METRICS_PORT."""

WORKER_METRICS_PORT = 9100
"""Port of a Celery worker's metrics HTTP server (the app's ``ECO2_WORKER_METRICS_PORT`` default)."""
