"""Worker entry point: `celery -A apps.worker worker -Q high_priority,default,low_priority`.

Besides the task consumer it runs a dead-letter consumer (a consumer bootstep on the `dead_letter` queue) that
marks the dead-lettered message's job `dead`, and declares the whole queue topology on start-up.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from celery import bootsteps
from celery.signals import setup_logging, worker_init, worker_process_init, worker_ready
from kombu import Consumer, Message
from sqlmodel import Session

from apps.core.db import get_engine
from apps.core.observability.celery import (
    REQUEST_ID_HEADER,
    instrument_worker,
    prepare_worker_metrics,
    serve_worker_metrics,
)
from apps.core.observability.logging import configure_logging
from apps.core.queue import DEAD_LETTER_QUEUE, celery_app, declare_topology
from apps.core.redaction import install_log_redaction
from apps.core.settings import get_settings
from apps.waste import jobs, metrics
from apps.waste.pipeline import embedded_analyzer

logger = logging.getLogger(__name__)

celery_app.conf.beat_schedule = {
    "sweep-stuck-jobs": {
        "task": "waste.sweep_stuck_jobs",
        "schedule": max(get_settings().queued_job_timeout_seconds / 2, 5.0),
    },
    "sweep-deleted-accounts": {"task": "users.sweep_deleted_accounts", "schedule": 300.0},
    "cleanup-expired-uploads": {
        "task": "waste.cleanup_expired_uploads",
        "schedule": float(get_settings().upload_cleanup_interval_seconds),
    },
}


def dead_letter_reason(headers: dict[str, Any]) -> str:
    deaths = headers.get("x-death") or []
    if deaths:
        death = deaths[0]
        return (
            f"dead-lettered from {death.get('queue')} ({death.get('reason')}, {death.get('count')} time(s))"
        )
    return "dead-lettered"


def job_id_of(body: Any) -> uuid.UUID | None:
    """Celery protocol 2 bodies are [args, kwargs, embed]; our tasks take the job id as the first arg."""
    try:
        args = body[0]
        return uuid.UUID(str(args[0]))
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def handle_dead_letter(body: Any, message: Message) -> None:
    headers = message.headers or {}
    deaths = headers.get("x-death") or [{}]
    queue = metrics.queue_label(deaths[0].get("queue"))
    job_id = job_id_of(body)
    if job_id is None:
        logger.error("dead-lettered message without a job id (task %s); dropping it", headers.get("task"))
        metrics.DEAD_LETTERS.labels(queue, "no_job_id").inc()
        message.ack()
        return
    reason = dead_letter_reason(headers)
    with Session(get_engine()) as session:
        marked = jobs.mark_dead(session, job_id, reason)
    metrics.DEAD_LETTERS.labels(queue, "marked_dead" if marked else "already_finished").inc()
    if marked:
        metrics.record_end(queue, "dead")
    logger.warning(
        "job %s %s: %s",
        job_id,
        "marked dead" if marked else "already finished",
        reason,
        extra={"job_id": str(job_id), "request_id": headers.get(REQUEST_ID_HEADER)},
    )
    message.ack()


class DeadLetterConsumer(bootsteps.ConsumerStep):  # type: ignore[misc]
    def get_consumers(self, channel: Any) -> list[Consumer]:
        return [
            Consumer(
                channel,
                queues=[DEAD_LETTER_QUEUE],
                callbacks=[handle_dead_letter],
                accept=["json"],
                prefetch_count=10,
            )
        ]


celery_app.steps["consumer"].add(DeadLetterConsumer)
instrument_worker()


@worker_init.connect
def _declare_topology(**_: Any) -> None:
    install_log_redaction(get_settings())
    with celery_app.connection_for_write() as connection:
        declare_topology(connection)


@setup_logging.connect
def _configure_logging(**_: Any) -> None:
    """JSON lines on stderr for the worker, its pool processes and beat (Celery then configures nothing)."""
    configure_logging(get_settings())


@worker_init.connect
def _prepare_metrics(**_: Any) -> None:
    prepare_worker_metrics()


@worker_ready.connect
def _serve_metrics(sender: Any, **_: Any) -> None:
    """The worker's metrics server, in the main process (which also reads the pool processes' files)."""
    settings = get_settings()
    if settings.metrics_enabled and settings.worker_metrics_port:
        queues = list(sender.app.amqp.queues.consume_from)
        serve_worker_metrics(
            settings.worker_metrics_host, settings.worker_metrics_port, queues, sender.controller.concurrency
        )


@worker_process_init.connect
def _load_model(**_: Any) -> None:
    """Each pool process verifies the model files and opens its inference session before the first job."""
    embedded_analyzer().warm_up()


app = celery_app
