"""The scan flow under abuse and faults: rate limits, the pending-upload cap and its cleanup, a black-holed
broker or Redis, an unreachable database (issue 10, docs/hardening.md)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, create_engine

from apps.core.async_clients import AsyncClients
from apps.core.async_db import AsyncConnectionPool
from apps.core.cache import make_async_redis
from apps.core.db import get_engine, get_request_engine, get_session
from apps.core.queue import broker_breaker
from apps.core.rate_limit import RequestLimiter
from apps.core.settings import Settings, get_settings
from apps.core.storage import get_s3_client
from apps.core.time import utcnow
from apps.main import create_gateway
from apps.waste import service
from apps.waste.models import AnalysisJob, JobStatus, Upload, UploadStatus
from apps.waste.schemas import AnalysisCreate
from apps.waste.tasks import cleanup_expired_uploads, sweep_stuck_jobs
from tests.support import services
from tests.support.identity import access_token_for, sign_in
from tests.support.provisioning import free_port
from tests.waste.conftest import SAMPLE_PHOTO, image_bytes, upload_photo

UPLOADS = "/api/v1/waste/uploads"
ANALYSES = "/api/v1/waste/analyses"


@pytest.fixture
def settings() -> Settings:
    """The gateway's own settings object: a test may change a limit for its duration (monkeypatch)."""
    return get_settings()


def reserve(api: httpx.Client, auth: dict[str, str]) -> httpx.Response:
    return api.post(UPLOADS, json={"content_type": "image/jpeg"}, headers=auth)


def test_reservations_are_rate_limited_per_user(
    api: httpx.Client, auth: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "upload_rate_per_minute", 6)  # bursts of 2
    assert [reserve(api, auth).status_code for _ in range(2)] == [201, 201]
    limited = reserve(api, auth)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 10
    assert limited.json()["detail"].startswith("too many requests")
    assert reserve(api, sign_in(api, "other").headers).status_code == 201


def test_a_user_holds_a_bounded_number_of_pending_uploads(
    api: httpx.Client, auth: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "pending_uploads_max", 2)
    first = upload_photo(api, auth, SAMPLE_PHOTO.read_bytes())
    assert reserve(api, auth).status_code == 201
    capped = reserve(api, auth)
    assert capped.status_code == 429
    assert int(capped.headers["Retry-After"]) > 0
    # Using one frees a slot.
    assert api.post(ANALYSES, json={"upload_id": first}, headers=auth).status_code == 202
    assert reserve(api, auth).status_code == 201


def test_expired_unused_reservations_and_their_objects_are_cleaned_up(
    api: httpx.Client, auth: dict[str, str]
) -> None:
    expired_id = uuid.UUID(upload_photo(api, auth, image_bytes()))
    fresh_id = uuid.UUID(reserve(api, auth).json()["upload_id"])
    referenced_id = uuid.UUID(reserve(api, auth).json()["upload_id"])
    with Session(get_engine()) as session:
        expired_key = session.get(Upload, expired_id).object_key  # type: ignore[union-attr]
        past = utcnow() - timedelta(minutes=1)
        for upload_id in (expired_id, referenced_id):
            session.execute(update(Upload).where(col(Upload.id) == upload_id).values(expires_at=past))
        owner = session.get(Upload, referenced_id).user_id  # type: ignore[union-attr]
        session.add(AnalysisJob(user_id=owner, upload_id=referenced_id, queue="high_priority"))
        session.commit()
    s3, bucket = get_s3_client(), get_settings().s3_bucket
    assert s3.list_objects_v2(Bucket=bucket, Prefix=expired_key)["KeyCount"] == 1

    assert cleanup_expired_uploads() >= 1
    with Session(get_engine()) as session:
        assert session.get(Upload, expired_id) is None
        fresh = session.get(Upload, fresh_id)
        assert fresh is not None and fresh.status == UploadStatus.PENDING
        assert session.get(Upload, referenced_id) is not None, "a job refers to it: never deleted"
    assert s3.list_objects_v2(Bucket=bucket, Prefix=expired_key)["KeyCount"] == 0


def test_a_black_holed_broker_costs_an_analysis_under_a_second(
    api: httpx.Client, auth: dict[str, str]
) -> None:
    upload_ids = [upload_photo(api, auth, image_bytes()) for _ in range(3)]
    services.BROKER_PROXY.black_hole()
    try:
        for upload_id in upload_ids:
            started = time.monotonic()
            accepted = api.post(ANALYSES, json={"upload_id": upload_id}, headers=auth)
            elapsed = time.monotonic() - started
            assert accepted.status_code == 202, accepted.text
            assert elapsed < 1.0, f"POST analyses took {elapsed:.2f} s with a black-holed broker"
            with Session(get_engine()) as session:
                job = session.get(AnalysisJob, uuid.UUID(accepted.json()["job_id"]))
                assert job is not None and job.status == JobStatus.QUEUED and job.published_at is None
    finally:
        services.BROKER_PROXY.restore()
        broker_breaker.record_success()  # the sweeper runs in the worker, with a circuit of its own
    assert sweep_stuck_jobs(older_than_seconds=0) >= 3


def test_a_job_whose_api_died_before_publishing_is_published_by_the_sweeper(
    api: httpx.Client, auth: dict[str, str]
) -> None:
    """`published_at` is written with the job; a process that dies before its publish leaves the job to the
    sweeper, which re-publishes it once that moment is older than the queued-job timeout."""
    upload_id = uuid.UUID(upload_photo(api, auth, image_bytes()))
    user_id = uuid.UUID(api.get("/api/v1/users/me", headers=auth).json()["id"])
    submission = service.submit_analysis(
        get_engine(), get_s3_client(), get_settings(), user_id, AnalysisCreate(upload_id=upload_id), None
    )  # committed, never published: the process "died" here
    with Session(get_engine()) as session:
        job = session.get(AnalysisJob, submission.job_id)
        assert job is not None and job.published_at is not None
        written = job.published_at
    assert sweep_stuck_jobs(older_than_seconds=0) >= 1
    with Session(get_engine()) as session:
        job = session.get(AnalysisJob, submission.job_id)
        assert job is not None and job.published_at is not None and job.published_at > written


def test_an_unreachable_database_is_a_503_with_retry_after(database: str) -> None:
    dead = create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/eco2", connect_args={"connect_timeout": 2}
    )

    def unreachable_session() -> Iterator[Session]:
        with Session(dead) as session:
            yield session

    dead_pool = AsyncConnectionPool(
        dead.url.render_as_string(), size=1, checkout_timeout_s=1, connect_timeout_s=2, query_timeout_s=1
    )
    app = create_gateway()
    app.dependency_overrides[get_session] = unreachable_session
    app.dependency_overrides[get_request_engine] = lambda: dead
    answering_redis = make_async_redis(get_settings().redis_url)
    dead_clients = AsyncClients(dead_pool, answering_redis, RequestLimiter(answering_redis))
    token = access_token_for(uuid.uuid4(), get_settings())
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        app.state.async_clients = dead_clients  # in place of the ones the lifespan made
        responses = [
            client.post("/api/v1/auth/local/token", json={"subject": "x"}),
            client.get("/api/v1/users/me", headers=auth),
            client.post(UPLOADS, json={"content_type": "image/jpeg"}, headers=auth),
            client.post(ANALYSES, json={"upload_id": str(uuid.uuid4())}, headers=auth),
            client.get(f"{ANALYSES}/{uuid.uuid4()}", headers=auth),
            client.get(f"{ANALYSES}/{uuid.uuid4()}/events", headers=auth),
        ]
    for response in responses:
        assert response.status_code == 503, (response.request.url, response.text)
        assert response.headers["Retry-After"] == "5"
        assert response.json() == {"detail": "the database is unavailable; retry later"}
    dead.dispose()


def test_user_data_is_never_cached(api: httpx.Client, auth: dict[str, str]) -> None:
    me = api.get("/api/v1/users/me", headers=auth)
    assert me.headers["Cache-Control"] == "private, no-store"
    assert me.headers["X-Content-Type-Options"] == "nosniff"


def test_searches_are_rate_limited_per_client_ip(
    api: httpx.Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "search_rate_per_minute", 2)  # bursts of 1
    monkeypatch.setattr(settings, "rate_limit_namespace", f"eco2-test-search-{uuid.uuid4()}")
    search, nearby = (
        "/api/v1/recycling/items/search?q=우유",
        "/api/v1/locations/nearby?lat=37.5663&lng=126.9779",
    )
    assert api.get(search).status_code == 200
    limited = api.get(search)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert api.get(nearby).status_code == 429, "both searches share one budget per client IP"


def test_scan_endpoints_need_a_valid_token_and_touch_only_the_callers_rows(
    api: httpx.Client, auth: dict[str, str]
) -> None:
    upload_id = upload_photo(api, auth, image_bytes())
    job_id = api.post(ANALYSES, json={"upload_id": upload_id}, headers=auth).json()["job_id"]
    assert api.get(f"{ANALYSES}/{job_id}", headers=auth).status_code == 200
    assert api.get(f"{ANALYSES}/{job_id}").status_code == 401
    assert api.get(f"{ANALYSES}/{job_id}", headers={"Authorization": "Bearer forged"}).status_code == 401
    # A valid token whose user has no such job (or no longer exists): the row's owner decides.
    stranger = {"Authorization": f"Bearer {access_token_for(uuid.uuid4(), get_settings())}"}
    assert api.get(f"{ANALYSES}/{job_id}", headers=stranger).status_code == 404
    assert api.post(ANALYSES, json={"upload_id": upload_id}, headers=stranger).status_code == 404
    refused = reserve(api, stranger)
    assert refused.status_code == 401 and refused.json() == {"detail": "unknown user"}
