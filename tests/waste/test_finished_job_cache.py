"""Finished analyses are served from Redis; Redis trouble is only ever a cache miss."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from apps.core.cache import get_redis, make_async_redis
from apps.core.db import get_engine
from apps.core.settings import get_settings
from apps.waste import jobs
from apps.waste.cache import FinishedJobCache, cached_body, finished_job_key
from apps.waste.models import JobStatus
from tests.support.provisioning import free_port
from tests.waste.conftest import image_bytes, upload_photo

BODY = b'{"job_id": "x", "status": "failed"}'


def put(status: JobStatus, owner: uuid.UUID, job_id: uuid.UUID, redis_url: str | None = None) -> None:
    """One cache write, as the poll makes it: on an event loop, with an async client."""

    async def write() -> None:
        client = make_async_redis(redis_url or get_settings().redis_url)
        await FinishedJobCache(client).put(job_id, status, owner, BODY)
        await client.aclose()

    asyncio.run(write())


def stored_entry(job_id: uuid.UUID) -> bytes | None:
    entry: bytes | None = get_redis().get(finished_job_key(job_id))  # type: ignore[assignment]
    return entry


def test_a_finished_job_is_served_to_its_owner_only() -> None:
    owner, stranger, job_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    put(JobStatus.FAILED, owner, job_id)
    assert cached_body(stored_entry(job_id), owner) == BODY
    assert cached_body(stored_entry(job_id), stranger) is None


@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DEAD])
def test_jobs_that_may_still_change_are_not_cached(status: JobStatus) -> None:
    owner, job_id = uuid.uuid4(), uuid.uuid4()
    put(status, owner, job_id)
    assert stored_entry(job_id) is None


@pytest.mark.parametrize(
    "entry",
    [b"{not json", b"", b'{"user_id": "6c1f0c4e-0000-0000-0000-000000000000", "job": {}}'],
    ids=["garbage", "empty", "the previous format"],
)
def test_an_unreadable_entry_is_a_miss(entry: bytes) -> None:
    assert cached_body(entry, uuid.uuid4()) is None


def test_redis_down_costs_a_cache_write_nothing_but_a_warning() -> None:
    put(JobStatus.FAILED, uuid.uuid4(), uuid.uuid4(), f"redis://127.0.0.1:{free_port()}/0")


def test_reading_a_finished_job_through_the_api_fills_the_cache(
    api: httpx.Client, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
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
    reads: list[Any] = []
    read_job = jobs.read_job

    async def counted(*args: Any) -> jobs.JobResponse:
        reads.append(args)
        return await read_job(*args)

    monkeypatch.setattr(jobs, "read_job", counted)
    again = api.get(f"/api/v1/waste/analyses/{job_id}", headers=auth)
    assert again.json() == first and again.headers["content-type"] == "application/json"
    assert reads == [], "a cached poll reads Redis only"
    api.get(f"/api/v1/waste/analyses/{uuid.uuid4()}", headers=auth)
    assert len(reads) == 1, "the count sees the database reads of uncached polls"
