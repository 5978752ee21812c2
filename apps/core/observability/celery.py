"""The workers' side: the request id travels in task headers, task metrics, and the metrics HTTP server.

Publishing (API or worker) adds the current request id to the message headers; a worker binds it, with the
task id and name, to every log line of the task, and so to the tasks it publishes in turn (retries).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from typing import Any

from celery.signals import (
    before_task_publish,
    task_postrun,
    task_prerun,
    worker_process_shutdown,
)
from prometheus_client import start_http_server
from prometheus_client.multiprocess import mark_process_dead

from apps.core.observability import metrics
from apps.core.observability.logging import current_request_id, pop, push

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "eco2_request_id"

# Per task execution (keyed by task id): when it started and the log context it pushed.
_running: dict[str, tuple[float, Any]] = {}


def _add_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = current_request_id()
    if request_id is not None and headers is not None:
        headers[REQUEST_ID_HEADER] = request_id


def request_id_of(request: Any) -> str | None:
    """The request id a task message carries (protocol 2 puts custom headers on the request)."""
    value = getattr(request, REQUEST_ID_HEADER, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(REQUEST_ID_HEADER)
    return str(value) if value else None


def _task_started(task_id: str, task: Any, **_: Any) -> None:
    token = push(request_id=request_id_of(task.request), task_id=task_id, task=task.name)
    _running[task_id] = (time.perf_counter(), token)
    metrics.WORKER_TASKS_IN_PROGRESS.labels(task.name).inc()


def _task_ended(task_id: str, task: Any, state: str | None = None, **_: Any) -> None:
    started, token = _running.pop(task_id, (None, None))
    metrics.WORKER_TASKS_IN_PROGRESS.labels(task.name).dec()
    metrics.WORKER_TASKS.labels(task.name, state or "UNKNOWN").inc()
    if started is not None:
        metrics.WORKER_TASK_DURATION.labels(task.name).observe(time.perf_counter() - started)
    if token is not None:
        pop(token)


def _pool_process_ended(**_: Any) -> None:
    """A pool process's live gauges (tasks in progress, pool connections) leave with it."""
    if metrics.multiprocess_enabled():
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def propagate_request_ids() -> None:
    """In every process that publishes tasks: put the current request id in their headers. Idempotent."""
    before_task_publish.connect(_add_request_id, weak=False, dispatch_uid="eco2-request-id")


def instrument_worker() -> None:
    """In a worker: request ids and task metrics for every task, live gauges cleared with a pool process."""
    propagate_request_ids()
    task_prerun.connect(_task_started, weak=False, dispatch_uid="eco2-task-started")
    task_postrun.connect(_task_ended, weak=False, dispatch_uid="eco2-task-ended")
    worker_process_shutdown.connect(_pool_process_ended, weak=False, dispatch_uid="eco2-pool-process-ended")


def prepare_worker_metrics() -> None:
    """In the worker's main process, before its pool starts: forget the files of an earlier run."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        removed = metrics.clear_stale_files(directory, keep_pid=os.getpid())
        if removed:
            logger.info("removed %d metrics files of an earlier run from %s", removed, directory)
    else:
        logger.warning(
            "PROMETHEUS_MULTIPROC_DIR is not set: the metrics server sees only the main process, not the "
            "pool processes that run the tasks (docs/observability.md)"
        )


def serve_worker_metrics(host: str, port: int, queues: Sequence[str], concurrency: int) -> None:
    """Start the worker's metrics HTTP server (every path answers the scrape, METRICS_PATH included)."""
    metrics.WORKER_POOL_PROCESSES.labels(",".join(sorted(queues))).set(concurrency)
    start_http_server(port, addr=host, registry=metrics.scrape_registry())
    logger.info("worker metrics on http://%s:%d%s", host, port, metrics.METRICS_PATH)
