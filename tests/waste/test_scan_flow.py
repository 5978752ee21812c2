"""The whole scan flow with real worker processes: success, SIGKILL mid-job, dead-lettering, broker outage."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

from apps.cli import main
from apps.core.db import get_engine
from apps.core.queue import broker_breaker
from apps.waste import jobs
from apps.waste.models import AnalysisJob, JobStatus
from apps.waste.tasks import redrive_dead_jobs, sweep_stuck_jobs
from tests.support import services
from tests.support.provisioning import free_port
from tests.waste.conftest import SAMPLE_PHOTO, Worker, upload_photo, wait_for_status

pytestmark = pytest.mark.slow


def submit(api: httpx.Client, auth: dict[str, str], hint: str | None = None) -> str:
    upload_id = upload_photo(api, auth, SAMPLE_PHOTO.read_bytes())
    body: dict[str, object] = {"upload_id": upload_id}
    if hint:
        body["hint"] = hint
    response = api.post("/api/v1/waste/analyses", json=body, headers=auth)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["job_id"]
    return job_id


def job_row(job_id: str) -> AnalysisJob:
    with Session(get_engine()) as session:
        job = session.get(AnalysisJob, uuid.UUID(job_id))
        assert job is not None
        return job


def event_statuses(job_id: str) -> list[str]:
    with Session(get_engine()) as session:
        return [event.status for event in jobs.events(session, uuid.UUID(job_id))]


def test_photo_to_answer_through_http_and_a_worker_process(
    api: httpx.Client, auth: dict[str, str], start_worker: Callable[..., Worker]
) -> None:
    start_worker()
    job_id = submit(api, auth, hint="우유팩")
    updates = []
    with api.stream("GET", f"/api/v1/waste/analyses/{job_id}/events", headers=auth) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        updates = [
            json.loads(line[len("data: ") :]) for line in stream.iter_lines() if line.startswith("data: ")
        ]
    statuses = [update["status"] for update in updates]
    assert statuses[-1] == "succeeded", updates
    assert len(statuses) == len(set(statuses)), "one event per state change"
    body = updates[-1]
    answer = body["result"]["answer"]
    assert answer["classification"]["category"] == "recyclable/paper_pack"
    assert answer["category_label"] == "종이팩"
    assert answer["steps"], "an answer always says what to do"
    assert answer["reply"]
    assert event_statuses(job_id) == ["queued", "running", "succeeded"]
    assert body == api.get(f"/api/v1/waste/analyses/{job_id}", headers=auth).json()


def test_a_worker_killed_mid_job_is_replaced_and_the_job_completes_once(
    api: httpx.Client, auth: dict[str, str], start_worker: Callable[..., Worker]
) -> None:
    slow = start_worker(ECO2_TEST_PIPELINE_DELAY="30")
    job_id = submit(api, auth)
    wait_for_status(api, auth, job_id, {"running"}, timeout=30)
    slow.kill()  # SIGKILL the whole worker (main process and pool child) while the job runs

    start_worker()
    body = wait_for_status(api, auth, job_id, {"succeeded", "failed", "dead"}, timeout=90)
    assert body["status"] == "succeeded", body
    job = job_row(job_id)
    assert job.attempts == 2, "the message was redelivered to the second worker"
    assert event_statuses(job_id).count("succeeded") == 1


def test_a_task_that_always_fails_is_dead_lettered_and_can_be_redriven(
    api: httpx.Client, auth: dict[str, str], start_worker: Callable[..., Worker]
) -> None:
    failing = start_worker(ECO2_TEST_PIPELINE_FAIL="1")
    job_id = submit(api, auth, hint="페트병")
    body = wait_for_status(api, auth, job_id, {"dead", "succeeded", "failed"}, timeout=60)
    assert body["status"] == "dead", body
    assert "dead-lettered from high_priority" in body["error"]
    assert "rejected" in body["error"]
    failing.stop()

    start_worker()
    assert redrive_dead_jobs([uuid.UUID(job_id)]) == [uuid.UUID(job_id)]
    body = wait_for_status(api, auth, job_id, {"succeeded", "failed", "dead"}, timeout=60)
    assert body["status"] == "succeeded", body
    assert event_statuses(job_id) == ["queued", "running", "dead", "queued", "running", "succeeded"]


def test_broker_outage_keeps_the_job_and_the_sweeper_delivers_it(
    api: httpx.Client, auth: dict[str, str], start_worker: Callable[..., Worker]
) -> None:
    start_worker()
    services.BROKER_PROXY.cut()
    try:
        started = time.monotonic()
        job_id = submit(api, auth, hint="캔")
        assert time.monotonic() - started < 10, "an unreachable broker must not hang the request"
        job = job_row(job_id)
        assert job.status == JobStatus.QUEUED
        assert job.published_at is None
    finally:
        services.BROKER_PROXY.start()

    # The sweeper runs in the worker process, whose circuit breaker is its own: close this process's one.
    broker_breaker.record_success()
    assert sweep_stuck_jobs(older_than_seconds=0) >= 1
    body = wait_for_status(api, auth, job_id, {"succeeded", "failed", "dead"}, timeout=60)
    assert body["status"] == "succeeded", body
    assert body["result"]["answer"]["classification"]["category"] == "recyclable/metal"


def test_cli_scans_a_photo_against_the_running_stack(
    api: httpx.Client, start_worker: Callable[..., Worker], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    start_worker()
    credentials = str(tmp_path / "credentials.json")
    assert main(["login", "--api", str(api.base_url), "--credentials", credentials]) == 0
    near = "37.5663,126.9779"  # Seoul City Hall
    argv = [
        "scan",
        "--credentials",
        credentials,
        str(SAMPLE_PHOTO),
        "--api",
        str(api.base_url),
        "--hint",
        "페트병",
        "--near",
        near,
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "분류: 무색페트병" in printed
    assert "  1. " in printed
    assert "가까운 수거 장소:" in printed, "KECO points near City Hall take clear PET bottles"


def test_cli_reports_a_stack_that_is_not_running(capsys: pytest.CaptureFixture[str]) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    assert main(["scan", str(SAMPLE_PHOTO), "--api", closed]) == 1
    assert "scan failed" in capsys.readouterr().err


def test_cli_rejects_malformed_coordinates(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["scan", str(SAMPLE_PHOTO), "--near", "seoul"])
    assert exit_info.value.code == 2
    assert "expected LAT,LNG" in capsys.readouterr().err
