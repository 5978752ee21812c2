"""Metrics of the scan flow: the funnel (reserved → uploaded → submitted → answered), where a job's time goes,
which analyzer answered and why a fallback did, OpenAI calls, dead letters, and the jobs waiting in `queued`.

Labels are closed sets (queue names, outcomes, analyzer names, failure reasons): never ids or paths.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from apps.core.observability.metrics import TASK_BUCKETS
from apps.core.queue_table import ANALYSIS_TASK_BY_QUEUE
from apps.waste.analysis.metrics import analyzer_label
from apps.waste.analysis.types import Classification
from apps.waste.models import AnalysisJob, JobEvent, JobStatus

logger = logging.getLogger(__name__)

UPLOADS_RESERVED = Counter("eco2_scan_uploads_reserved", "Upload slots (presigned POSTs) handed out.")
UPLOADS_RECEIVED = Counter(
    "eco2_scan_uploads_received",
    "Analysis requests whose photo was found in storage: the funnel's 'uploaded' step as the server sees it.",
)
SUBMISSIONS_REJECTED = Counter(
    "eco2_scan_submissions_rejected",
    "Analysis requests refused, by reason (the domain error, e.g. upload_not_received, upload_rejected).",
    ["reason"],
)
SCANS_SUBMITTED = Counter(
    "eco2_scans_submitted",
    "Analysis jobs created (repeats with the same Idempotency-Key excluded).",
    ["queue"],
)
PUBLISHES = Counter(
    "eco2_scan_publishes",
    "Attempts to publish a job's message, by queue and outcome (published, broker_unavailable).",
    ["queue", "outcome"],
)
SCANS_FINISHED = Counter(
    "eco2_scans_finished",
    "Jobs that reached an end state, by queue, outcome (succeeded, failed, dead), the analyzer that answered "
    "(embedded, openai, hint, fallback, none) and the fallback's reason (empty unless analyzer is fallback).",
    ["queue", "outcome", "analyzer", "fallback_reason"],
)
QUEUE_WAIT = Histogram(
    "eco2_scan_queue_wait_seconds",
    "Time from a job's creation to its first claim by a worker, by queue.",
    ["queue"],
    buckets=TASK_BUCKETS,
)
PROCESSING = Histogram(
    "eco2_scan_processing_seconds",
    "Time a worker spent on one job execution, from its claim to its stored result, by queue and outcome.",
    ["queue", "outcome"],
    buckets=TASK_BUCKETS,
)
DEAD_LETTERS = Counter(
    "eco2_dead_letters",
    "Dead-lettered messages handled, by the queue they died in and result (marked_dead, already_finished, "
    "no_job_id).",
    ["queue", "result"],
)

ANALYSIS_QUEUES = tuple(queue.value for queue in ANALYSIS_TASK_BY_QUEUE)


def queue_label(queue: object) -> str:
    """A known queue name, or "other": a header or row can never mint a new label value."""
    return str(queue) if str(queue) in ANALYSIS_QUEUES else "other"


def rejection_reason(error: Exception) -> str:
    """``UploadNotReceived`` → ``upload_not_received``: one label value per domain error class."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()


def record_answer(queue: str, classification: Classification) -> None:
    SCANS_FINISHED.labels(
        queue_label(queue), "succeeded", analyzer_label(classification), classification.fallback_reason or ""
    ).inc()


def record_end(queue: str, outcome: str) -> None:
    """A job that ended without an answer (failed, dead)."""
    SCANS_FINISHED.labels(queue_label(queue), outcome, "none", "").inc()


class QueuedJobsCollector(Collector):
    """At scrape time, from PostgreSQL (the source of truth): how many jobs wait in `queued` per queue and
    how long the oldest has waited since it last entered `queued` (a re-driven job counts from its re-drive).
    Every analysis queue is reported, with 0 when it is empty, so alerts never see a missing series."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        count = GaugeMetricFamily("eco2_jobs_queued", "Jobs in state queued, by queue.", labels=["queue"])
        age = GaugeMetricFamily(
            "eco2_jobs_queued_oldest_age_seconds",
            "Seconds since the longest-waiting queued job entered queued, by queue (0 when none).",
            labels=["queue"],
        )
        return count, age

    def describe(self) -> Iterator[Metric]:
        """The metrics without querying (a registry calls this when the collector is registered)."""
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        count, age = self._families()
        entered = (
            select(func.max(JobEvent.created_at))
            .where(
                col(JobEvent.job_id) == col(AnalysisJob.id), col(JobEvent.status) == JobStatus.QUEUED.value
            )
            .scalar_subquery()
        )
        statement = (
            select(
                col(AnalysisJob.queue),
                func.count(),
                func.extract("epoch", func.now() - func.min(func.coalesce(entered, AnalysisJob.created_at))),
            )
            .where(col(AnalysisJob.status) == JobStatus.QUEUED.value)
            .group_by(col(AnalysisJob.queue))
        )
        rows: dict[str, tuple[int, float]] = {queue: (0, 0.0) for queue in ANALYSIS_QUEUES}
        try:
            with self._engine.connect() as connection:
                for name, queued, oldest in connection.execute(statement):
                    rows[queue_label(name)] = (int(queued), max(float(oldest or 0.0), 0.0))
        except Exception as error:  # a scrape must answer even when the database does not
            logger.warning("could not count queued jobs for the metrics scrape: %s", error)
            return
        for queue, (waiting, oldest_age) in sorted(rows.items()):
            count.add_metric([queue], waiting)
            age.add_metric([queue], oldest_age)
        yield count
        yield age
