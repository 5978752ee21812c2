"""Finished analyses are served from Redis; Redis trouble is only ever a cache miss."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import Session

from apps.core.cache import get_redis, make_redis
from apps.core.db import get_engine
from apps.waste import jobs
from apps.waste.cache import FinishedJobCache
from apps.waste.models import JobStatus
from apps.waste.schemas import AnalysisRead
from tests.support.provisioning import free_port
from tests.waste.conftest import image_bytes, upload_photo


def finished(job_id: uuid.UUID, status: JobStatus = JobStatus.FAILED) -> AnalysisRead:
    now = datetime.now(UTC)
    return AnalysisRead(
        job_id=job_id, status=status, created_at=now, finished_at=now, error="the photo is gone"
    )


@pytest.fixture
def cache() -> FinishedJobCache:
    return FinishedJobCache(get_redis())


def test_a_finished_job_is_served_to_its_owner_only(cache: FinishedJobCache) -> None:
    owner, stranger, job_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    stored = finished(job_id)
    cache.put(stored, owner)
    assert cache.get(job_id, owner) == stored
    assert cache.get(job_id, stranger) is None


@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DEAD])
def test_jobs_that_may_still_change_are_not_cached(cache: FinishedJobCache, status: JobStatus) -> None:
    owner, job_id = uuid.uuid4(), uuid.uuid4()
    cache.put(finished(job_id).model_copy(update={"status": status}), owner)
    assert cache.get(job_id, owner) is None


def test_an_unreadable_entry_is_a_miss(cache: FinishedJobCache) -> None:
    job_id = uuid.uuid4()
    get_redis().set(f"eco2:analysis:{job_id}", b"{not json", ex=60)
    assert cache.get(job_id, uuid.uuid4()) is None


def test_redis_down_is_a_miss_and_never_an_error() -> None:
    unreachable = FinishedJobCache(make_redis(f"redis://127.0.0.1:{free_port()}/0"))
    job_id = uuid.uuid4()
    unreachable.put(finished(job_id), uuid.uuid4())
    assert unreachable.get(job_id, uuid.uuid4()) is None


def test_reading_a_finished_job_through_the_api_fills_the_cache(
    api: httpx.Client, auth: dict[str, str]
) -> None:
    upload_id = upload_photo(api, auth, image_bytes())
    job_id = uuid.UUID(
        api.post("/api/v1/waste/analyses", json={"upload_id": upload_id}, headers=auth).json()["job_id"]
    )
    key = f"eco2:analysis:{job_id}"
    assert api.get(f"/api/v1/waste/analyses/{job_id}", headers=auth).json()["status"] == "queued"
    assert get_redis().get(key) is None, "a queued job may still change"

    with Session(get_engine()) as session:
        jobs.claim(session, job_id)
        jobs.fail(session, job_id, "the photo is no longer in storage")
    first = api.get(f"/api/v1/waste/analyses/{job_id}", headers=auth).json()
    assert first["status"] == "failed"
    assert get_redis().get(key) is not None
    assert api.get(f"/api/v1/waste/analyses/{job_id}", headers=auth).json() == first
