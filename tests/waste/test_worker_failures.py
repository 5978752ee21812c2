"""Permanent failures inside the worker end the job `failed` with a reason (no retry, no dead letter)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from apps.core.db import get_engine
from apps.core.observability.logging import bound
from apps.core.settings import get_settings
from apps.waste.analysis.types import Classification, ImageInput
from apps.waste.models import AnalysisJob, JobStatus, Upload
from apps.waste.pipeline import embedded_analyzer
from apps.waste.tasks import run_analysis
from tests.support.classifications import confident
from tests.waste.conftest import image_bytes, upload_photo


def submitted_job(api: httpx.Client, auth: dict[str, str]) -> tuple[uuid.UUID, str]:
    """A job accepted by the API (no worker runs here) and its photo's object key."""
    upload_id = upload_photo(api, auth, image_bytes())
    response = api.post("/api/v1/waste/analyses", json={"upload_id": upload_id}, headers=auth)
    job_id = uuid.UUID(response.json()["job_id"])
    with Session(get_engine()) as session:
        upload = session.get(Upload, uuid.UUID(upload_id))
        assert upload is not None
        return job_id, upload.object_key


def job(job_id: uuid.UUID) -> AnalysisJob:
    with Session(get_engine()) as session:
        found = session.get(AnalysisJob, job_id)
        assert found is not None
        return found


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda s3, bucket, key: s3.delete_object(Bucket=bucket, Key=key), "no longer in storage"),
        (
            lambda s3, bucket, key: s3.put_object(Bucket=bucket, Key=key, Body=b"\xff\xd8\xff broken"),
            "cannot be read",
        ),
    ],
    ids=["photo-deleted", "photo-replaced-by-garbage"],
)
def test_a_photo_that_is_gone_or_broken_fails_the_job_with_its_reason(
    api: httpx.Client, auth: dict[str, str], s3: Any, tamper: Any, reason: str
) -> None:
    job_id, key = submitted_job(api, auth)
    tamper(s3, get_settings().s3_bucket, key)
    run_analysis(job_id, embedded_analyzer())
    failed = job(job_id)
    assert failed.status == JobStatus.FAILED
    assert failed.error is not None
    assert reason in failed.error
    assert failed.result is None
    body = api.get(f"/api/v1/waste/analyses/{job_id}", headers=auth).json()
    assert body["status"] == "failed"
    assert reason in body["error"]


def test_a_photo_truncated_after_its_header_is_accepted_then_fails_in_the_worker(
    api: httpx.Client, auth: dict[str, str]
) -> None:
    """The API checks the header only; the worker's full decode refuses the rest, with the reason."""
    photo = image_bytes("PNG", size=(256, 256))
    upload_id = upload_photo(api, auth, photo[: len(photo) // 2], "image/png")
    response = api.post("/api/v1/waste/analyses", json={"upload_id": upload_id}, headers=auth)
    assert response.status_code == 202, response.text
    job_id = uuid.UUID(response.json()["job_id"])
    run_analysis(job_id, embedded_analyzer())
    body = api.get(f"/api/v1/waste/analyses/{job_id}", headers=auth).json()
    assert body["status"] == "failed"
    assert body["error"] == "the photo cannot be read: the image/png image cannot be decoded (OSError)"


def test_a_finished_job_is_not_analysed_again(api: httpx.Client, auth: dict[str, str]) -> None:
    job_id, _ = submitted_job(api, auth)
    run_analysis(job_id, embedded_analyzer())
    first = job(job_id)
    assert first.status == JobStatus.SUCCEEDED
    run_analysis(job_id, embedded_analyzer())  # a duplicate delivery
    again = job(job_id)
    assert again.attempts == first.attempts == 1
    assert again.result == first.result


class RecordsLogContext:
    """An analyzer that notes the log context it runs in."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def analyze(self, image: ImageInput, hint: str | None = None) -> Classification:
        self.seen = dict(bound())
        return confident("recyclable/plastic")


def test_the_job_id_is_bound_during_the_analysis_only(api: httpx.Client, auth: dict[str, str]) -> None:
    """A worker process runs task after task: one job's id must not label the next one's log lines."""
    job_id, _ = submitted_job(api, auth)
    analyzer = RecordsLogContext()
    run_analysis(job_id, analyzer)
    assert analyzer.seen.get("job_id") == str(job_id)
    assert "job_id" not in bound()
