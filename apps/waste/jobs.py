"""The analysis job state machine. Every transition is a compare-and-set on the job row.

queued ──claim──▶ running ──finish──▶ succeeded | failed
  ▲                  │
  └─────redrive──── dead ◀──dead-letter── (queued | running)

A redelivered message may claim a job that is already `running` (its first worker died). Two executions may
then race; only the first `finish` wins, so a job never gets two results.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic_core import to_json
from sqlalchemy import CursorResult, or_, update
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg as psycopg_dialect
from sqlmodel import Session, col, select

from apps.core.async_db import AsyncConnectionPool
from apps.core.db import autocommit
from apps.core.time import utcnow
from apps.waste import exceptions as errors
from apps.waste.models import AnalysisJob, JobEvent, JobStatus

CLAIMABLE = (JobStatus.QUEUED, JobStatus.RUNNING)
JOBS = AnalysisJob.__table__  # type: ignore[attr-defined]
"""The jobs table, for the hot paths' Core statements."""


def _compare_and_set(
    session: Session,
    job_id: uuid.UUID,
    expected: Sequence[JobStatus],
    event_detail: str | None,
    **values: Any,
) -> bool:
    statement = (
        update(AnalysisJob)
        .where(col(AnalysisJob.id) == job_id, col(AnalysisJob.status).in_([s.value for s in expected]))
        .values(**values)
    )
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    changed = result.rowcount == 1
    if changed and "status" in values:
        session.add(JobEvent(job_id=job_id, status=values["status"], detail=event_detail))
    session.commit()
    return changed


def claim(session: Session, job_id: uuid.UUID) -> AnalysisJob | None:
    """Mark the job running and count the attempt; None when it is already finished (or unknown)."""
    claimed = _compare_and_set(
        session,
        job_id,
        CLAIMABLE,
        None,
        status=JobStatus.RUNNING.value,
        attempts=AnalysisJob.attempts + 1,
        started_at=utcnow(),
    )
    return session.get(AnalysisJob, job_id, populate_existing=True) if claimed else None


def finish(session: Session, job_id: uuid.UUID, result: dict[str, Any]) -> bool:
    return _compare_and_set(
        session,
        job_id,
        (JobStatus.RUNNING,),
        None,
        status=JobStatus.SUCCEEDED.value,
        result=result,
        error=None,
        finished_at=utcnow(),
    )


def fail(session: Session, job_id: uuid.UUID, reason: str) -> bool:
    """A permanent, explained failure (e.g. the stored image vanished); not retried."""
    return _compare_and_set(
        session,
        job_id,
        (JobStatus.RUNNING, JobStatus.QUEUED),
        reason[:500],
        status=JobStatus.FAILED.value,
        error=reason[:500],
        finished_at=utcnow(),
    )


def mark_dead(session: Session, job_id: uuid.UUID, reason: str) -> bool:
    """The job's message was dead-lettered: every delivery failed or the delivery limit was hit."""
    return _compare_and_set(
        session,
        job_id,
        CLAIMABLE,
        reason[:500],
        status=JobStatus.DEAD.value,
        error=reason[:500],
        finished_at=utcnow(),
    )


def requeue_dead(session: Session, job_id: uuid.UUID) -> bool:
    return _compare_and_set(
        session,
        job_id,
        (JobStatus.DEAD,),
        "re-driven",
        status=JobStatus.QUEUED.value,
        error=None,
        finished_at=None,
        published_at=None,
    )


def mark_published(session: Session, job_id: uuid.UUID) -> None:
    session.execute(
        update(AnalysisJob)
        .where(col(AnalysisJob.id) == job_id, col(AnalysisJob.status) == JobStatus.QUEUED.value)
        .values(published_at=utcnow())
    )
    session.commit()


_UNPUBLISHED = (
    sa.update(JOBS)
    .where(JOBS.c.id == sa.bindparam("job_id"), JOBS.c.status == JobStatus.QUEUED.value)
    .values(published_at=None)
)


def mark_unpublished(engine: sa.Engine, job_id: uuid.UUID) -> None:
    """A publish that was recorded ahead of time failed: the job reads as never published (the sweeper's)."""
    with autocommit(engine) as connection:
        connection.execute(_UNPUBLISHED, {"job_id": job_id})


def stuck_in_queue(session: Session, older_than: timedelta, now: datetime | None = None) -> list[AnalysisJob]:
    """Queued jobs never published, or published so long ago that the message was probably lost."""
    cutoff = (now or utcnow()) - older_than
    statement = (
        select(AnalysisJob)
        .where(col(AnalysisJob.status) == JobStatus.QUEUED.value)
        .where(or_(col(AnalysisJob.published_at).is_(None), col(AnalysisJob.published_at) < cutoff))
        .where(col(AnalysisJob.created_at) < cutoff)
        .order_by(col(AnalysisJob.created_at))
        .limit(500)
    )
    return list(session.exec(statement))


def dead_jobs(session: Session) -> list[AnalysisJob]:
    statement = select(AnalysisJob).where(col(AnalysisJob.status) == JobStatus.DEAD.value)
    return list(session.exec(statement.order_by(col(AnalysisJob.created_at))))


def events(session: Session, job_id: uuid.UUID) -> list[JobEvent]:
    statement = select(JobEvent).where(col(JobEvent.job_id) == job_id).order_by(col(JobEvent.id))
    return list(session.exec(statement))


_READ_JOB = str(
    sa.select(
        JOBS.c.user_id, JOBS.c.status, JOBS.c.created_at, JOBS.c.finished_at, JOBS.c.result, JOBS.c.error
    )
    .where(JOBS.c.id == sa.bindparam("job_id"))
    .compile(dialect=psycopg_dialect())  # type: ignore[no-untyped-call]
)
"""A poll's read, as psycopg's SQL (`%(job_id)s`), compiled once from the table."""


@dataclass(frozen=True)
class JobResponse:
    status: JobStatus
    body: bytes  # the AnalysisRead document, as JSON


async def read_job(pool: AsyncConnectionPool, user_id: uuid.UUID, job_id: uuid.UUID) -> JobResponse:
    """A poll's read: one SELECT by primary key on the event loop, serialised once. The stored result is
    the worker's `AnalysisResult.model_dump(mode="json")`, so it is sent as it is, not validated again."""
    row = await pool.fetch_one(_READ_JOB, {"job_id": job_id})
    if row is None or row[0] != user_id:
        raise errors.JobNotFound("no such analysis job")
    _, status, created_at, finished_at, result, error = row
    document = {
        "job_id": job_id,
        "status": status,
        "created_at": created_at,
        "finished_at": finished_at,
        "result": result,
        "error": error,
    }
    return JobResponse(status=JobStatus(status), body=to_json(document))
