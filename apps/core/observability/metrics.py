"""Prometheus metrics that know no domain: HTTP requests, the database pool, Celery tasks, caches.

Processes that fork or run side by side (Celery prefork, uvicorn ``--workers``) share one directory named by
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode; set it before this module is first
imported, and empty it before the first process starts). Without it, each process exports its own registry.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

# The directory must exist before the first metric opens its file in it.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

METRICS_PATH = "/metrics"
"""Scrape path of the API processes and of the worker's metrics server (infra.ports.METRICS_PATH)."""

# Latency buckets in seconds: request handling is milliseconds, a job waits and runs for seconds.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
TASK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

UNMATCHED_ROUTE = "<unmatched>"
"""The route label of a request no route matched (a 404 on an unknown path): raw paths never become labels."""

HTTP_REQUESTS = Counter(
    "eco2_http_requests",
    "HTTP requests answered, by route template, method and status code.",
    ["route", "method", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "eco2_http_request_duration_seconds",
    "Time from the request's arrival to the end of its response body, by route template and method.",
    ["route", "method"],
    buckets=REQUEST_BUCKETS,
)
HTTP_REQUESTS_IN_PROGRESS = Gauge(
    "eco2_http_requests_in_progress",
    "Requests being handled right now, by method.",
    ["method"],
    multiprocess_mode="livesum",
)

DB_POOL_CONNECTIONS_IN_USE = Gauge(
    "eco2_db_pool_connections_in_use",
    "Database connections checked out of the SQLAlchemy pool.",
    multiprocess_mode="livesum",
)
DB_POOL_WAITS = Counter(
    "eco2_db_pool_waits",
    "Connection requests that found every pooled connection busy and had to wait, by how the wait ended.",
    ["outcome"],
)
DB_POOL_WAIT_DURATION = Histogram(
    "eco2_db_pool_wait_seconds",
    "How long a request that found the pool exhausted waited for a connection.",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

WORKER_TASKS = Counter(
    "eco2_worker_tasks",
    "Celery task executions that ended, by task name and final state (SUCCESS, FAILURE, RETRY, ...).",
    ["task", "state"],
)
WORKER_TASK_DURATION = Histogram(
    "eco2_worker_task_duration_seconds",
    "Wall time of one task execution in a worker process, by task name.",
    ["task"],
    buckets=TASK_BUCKETS,
)
WORKER_TASKS_IN_PROGRESS = Gauge(
    "eco2_worker_tasks_in_progress",
    "Tasks executing right now in the worker's pool processes, by task name.",
    ["task"],
    multiprocess_mode="livesum",
)
WORKER_POOL_PROCESSES = Gauge(
    "eco2_worker_pool_processes",
    "Pool processes (concurrency) of the worker: tasks_in_progress / pool_processes is its saturation.",
    ["queues"],
    multiprocess_mode="max",
)

CACHE_REQUESTS = Counter(
    "eco2_cache_requests",
    "Cache look-ups by cache and result (hit, miss, error: Redis failed and the caller read the database).",
    ["cache", "result"],
)


def multiprocess_enabled() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def scrape_registry(collectors: Iterable[Collector] = ()) -> CollectorRegistry:
    """What a scrape reads: every process's metrics in multiprocess mode, else this process's, plus
    `collectors` (values computed at scrape time)."""
    if multiprocess_enabled():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_DefaultRegistry())
    for collector in collectors:
        registry.register(collector)
    return registry


class _DefaultRegistry(Collector):
    """The process's default registry as one collector, so scrape-time collectors can join it per scrape."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def render(collectors: Iterable[Collector] = ()) -> tuple[bytes, str]:
    """The exposition text of a scrape and its content type."""
    return generate_latest(scrape_registry(collectors)), CONTENT_TYPE_LATEST


def clear_stale_files(directory: str, keep_pid: int) -> int:
    """Remove the files of processes other than `keep_pid` from a multiprocess directory; call it in the
    first process, before any other starts. Returns how many were removed."""
    removed = 0
    for path in Path(directory).glob("*.db"):
        if not path.stem.endswith(f"_{keep_pid}"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed
