"""Where the application finds each data service: one table read by the data StatefulSets, the app's Secret
(the connection URLs), the NetworkPolicies and the scrape targets."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from eco2_platform.namespaces import DATA_NAMESPACE


@dataclass(frozen=True)
class DataEndpoint:
    name: str
    """StatefulSet, headless Service, node role and ``app.kubernetes.io/name`` label."""
    port: int
    metrics_port: int
    """Prometheus metrics: the exporter sidecar's port (RabbitMQ serves its own)."""
    user: str

    @property
    def host(self) -> str:
        """The headless Service's cluster DNS name (resolves to the ready pod)."""
        return f"{self.name}.{DATA_NAMESPACE}.svc.cluster.local"


POSTGRESQL = DataEndpoint(name="postgresql", port=5432, metrics_port=9187, user="eco2")
REDIS = DataEndpoint(name="redis", port=6379, metrics_port=9121, user="default")
RABBITMQ = DataEndpoint(name="rabbitmq", port=5672, metrics_port=15692, user="eco2")
DATA_ENDPOINTS = (POSTGRESQL, REDIS, RABBITMQ)
DATABASE_NAME = "eco2"
RABBITMQ_VHOST = "eco2"


def database_url(password: str) -> str:
    return (
        f"postgresql+psycopg://{POSTGRESQL.user}:{quote(password, safe='')}@{POSTGRESQL.host}:"
        f"{POSTGRESQL.port}/{DATABASE_NAME}"
    )


def redis_url(password: str) -> str:
    return f"redis://:{quote(password, safe='')}@{REDIS.host}:{REDIS.port}/0"


def broker_url(password: str) -> str:
    return (
        f"amqp://{RABBITMQ.user}:{quote(password, safe='')}@{RABBITMQ.host}:{RABBITMQ.port}/{RABBITMQ_VHOST}"
    )
