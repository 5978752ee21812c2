"""Finished analyses are served from Redis; Redis trouble is only ever a cache miss."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import event
from sqlmodel import Session

from apps.core.cache import get_redis, make_redis
from apps.core.db import get_engine
from apps.waste import jobs
from apps.waste.cache import FinishedJobCache, cached_body, finished_job_key
from apps.waste.models import JobStatus
from tests.support.provisioning import free_port
from tests.waste.conftest import image_bytes, upload_photo

BODY = b'{"job_id": "x", "status": "failed"}'


@pytest.fixture
def cache() -> FinishedJobCache:
    return FinishedJobCache(get_redis())


def stored_entry(job_id: uuid.UUID) -> bytes | None:
    entry: bytes | None = get_redis().get(finished_job_key(job_id))  # type: ignore[assignment]
    return entry


def test_a_finished_job_is_served_to_its_owner_only(cache: FinishedJobCache) -> None:
    owner, stranger, job_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    cache.put(job_id, JobStatus.FAILED, owner, BODY)
    assert cached_body(stored_entry(job_id), owner) == BODY
    assert cached_body(stored_entry(job_id), stranger) is None


@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DEAD])
def test_jobs_that_may_still_change_are_not_cached(cache: FinishedJobCache, status: JobStatus) -> None:
    owner, job_id = uuid.uuid4(), uuid.uuid4()
    cache.put(job_id, status, owner, BODY)
    assert stored_entry(job_id) is None


@pytest.mark.parametrize(
    "entry",
    [b"{not json", b"", b'{"user_id": "6c1f0c4e-0000-0000-0000-000000000000", "job": {}}'],
    ids=["garbage", "empty", "the previous format"],
)
def test_an_unreadable_entry_is_a_miss(entry: bytes) -> None:
    assert cached_body(entry, uuid.uuid4()) is None


def test_redis_down_costs_a_cache_write_nothing_but_a_warning() -> None:
    unreachable = FinishedJobCache(make_redis(f"redis://127.0.0.1:{free_port()}/0"))
    unreachable.put(uuid.uuid4(), JobStatus.FAILED, uuid.uuid4(), BODY)


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
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(get_engine(), "before_cursor_execute", count)
    try:
        again = api.get(f"/api/v1/waste/analyses/{job_id}", headers=auth)
    finally:
        event.remove(get_engine(), "before_cursor_execute", count)
    assert again.json() == first and again.headers["content-type"] == "application/json"
    assert statements == [], "a cached poll reads Redis only"
