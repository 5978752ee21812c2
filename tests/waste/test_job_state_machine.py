"""Compare-and-set transitions on the job row, without a broker."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import Session

from apps.core.db import get_engine
from apps.core.time import utcnow
from apps.users.service import create_user
from apps.waste import jobs
from apps.waste.models import AnalysisJob, JobStatus, Upload


@pytest.fixture
def job(database: str) -> AnalysisJob:
    with Session(get_engine(), expire_on_commit=False) as session:
        user = create_user(session, "state machine")
        upload = Upload(
            user_id=user.id,
            object_key=f"scans/{user.id}/{uuid.uuid4()}.jpg",
            content_type="image/jpeg",
            max_bytes=1000,
            expires_at=utcnow() + timedelta(minutes=5),
        )
        session.add(upload)
        session.commit()
        created = AnalysisJob(user_id=user.id, upload_id=upload.id, queue="high_priority")
        session.add(created)
        session.commit()
        return created


def test_two_executions_produce_one_result(job: AnalysisJob) -> None:
    with Session(get_engine()) as first, Session(get_engine()) as second:
        assert jobs.claim(first, job.id) is not None
        assert jobs.claim(second, job.id) is not None  # a redelivery may claim a running job
        assert jobs.finish(first, job.id, {"winner": "first"})
        assert not jobs.finish(second, job.id, {"winner": "second"})
        assert jobs.claim(second, job.id) is None  # finished jobs are never claimed again
    with Session(get_engine()) as session:
        stored = session.get(AnalysisJob, job.id)
        assert stored is not None
        assert stored.status == JobStatus.SUCCEEDED
        assert stored.result == {"winner": "first"}
        assert stored.attempts == 2
        assert [event.status for event in jobs.events(session, job.id)] == ["running", "running", "succeeded"]


def test_dead_letters_do_not_overwrite_a_finished_job(job: AnalysisJob) -> None:
    with Session(get_engine()) as session:
        jobs.claim(session, job.id)
        assert jobs.finish(session, job.id, {"ok": True})
        assert not jobs.mark_dead(session, job.id, "late dead letter")
        assert not jobs.requeue_dead(session, job.id)


def test_permanent_failure_is_recorded_with_its_reason(job: AnalysisJob) -> None:
    with Session(get_engine()) as session:
        jobs.claim(session, job.id)
        assert jobs.fail(session, job.id, "the photo is no longer in storage")
        stored = session.get(AnalysisJob, job.id, populate_existing=True)
        assert stored is not None
        assert stored.status == JobStatus.FAILED
        assert stored.error == "the photo is no longer in storage"
        assert not jobs.finish(session, job.id, {"late": True})


def test_sweeper_selects_unpublished_and_long_unstarted_jobs(job: AnalysisJob) -> None:
    with Session(get_engine()) as session:
        later = utcnow() + timedelta(minutes=10)
        assert job.id in {j.id for j in jobs.stuck_in_queue(session, timedelta(minutes=1), now=later)}
        assert job.id not in {j.id for j in jobs.stuck_in_queue(session, timedelta(minutes=1))}
        jobs.mark_published(session, job.id)
        assert job.id not in {j.id for j in jobs.stuck_in_queue(session, timedelta(minutes=1))}
        jobs.claim(session, job.id)
        assert job.id not in {j.id for j in jobs.stuck_in_queue(session, timedelta(minutes=1), now=later)}
