"""One scan through HTTP against real processes (two uvicorn workers, a prefork Celery worker), then: the
counters moved on both /metrics endpoints, and the logs carry the request id from the API into the worker and
no token, secret, presigned-URL signature or photo byte."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from moto.server import ThreadedMotoServer

from apps.core.settings import LOCAL_TOKEN_SIGNING_KEY
from tests.support import provisioning, services
from tests.support.api_process import ApiProcess
from tests.support.identity import sign_in
from tests.support.metrics_text import scrape, value
from tests.support.provisioning import free_port
from tests.waste.conftest import REPO_ROOT, SAMPLE_PHOTO, Worker

pytestmark = pytest.mark.slow

ANALYSES = "/api/v1/waste/analyses"


@dataclass
class Scan:
    api: str
    worker_metrics: str
    api_log: Path
    worker_log: Path
    token: str
    request_id: str
    job_id: str
    upload: dict[str, Any]
    before_api: str
    before_worker: str
    after_api: list[str]
    after_worker: str


def _environment(tmp: Path) -> Iterator[dict[str, str]]:
    """A database, vhost and S3 server of this module's own (the scan-flow tests use the session's)."""
    name = f"eco2_obs_{services.RUN_ID}"
    s3_port = free_port()
    env = {
        "ECO2_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
        "ECO2_BROKER_URL": f"amqp://guest:guest@127.0.0.1:5672/{name}",
        "ECO2_S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
        "ECO2_LOG_LEVEL": "INFO",
    }
    from apps.core.migrate import upgrade

    provisioning.create_database(name)
    provisioning.create_vhost(name)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    server.start()
    try:
        upgrade(env["ECO2_DATABASE_URL"])
        subprocess.run(
            [sys.executable, "-m", "apps.cli", "init-storage"],
            cwd=REPO_ROOT,
            env={**__import__("os").environ, **env},
            check=True,
            capture_output=True,
            timeout=60,
        )
        yield env
    finally:
        server.stop()
        provisioning.delete_vhost(name)
        provisioning.drop_database(name)


def _scan(client: httpx.Client, request_id: str) -> tuple[str, str, dict[str, Any]]:
    token = sign_in(client, "observer").access_token
    auth = {"Authorization": f"Bearer {token}", "X-Request-ID": request_id}
    reserved = client.post("/api/v1/waste/uploads", json={"content_type": "image/jpeg"}, headers=auth)
    assert reserved.status_code == 201, reserved.text
    upload = reserved.json()
    sent = httpx.post(
        upload["upload_url"],
        data=upload["upload_fields"],
        files={"file": ("photo.jpg", SAMPLE_PHOTO.read_bytes(), "image/jpeg")},
        timeout=30,
    )
    assert sent.status_code in (200, 204), sent.text
    accepted = client.post(ANALYSES, json={"upload_id": upload["upload_id"], "hint": "우유팩"}, headers=auth)
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["x-request-id"] == request_id, "the caller's request id is echoed"
    job_id = accepted.json()["job_id"]
    deadline = time.monotonic() + 60
    while True:
        body = client.get(f"{ANALYSES}/{job_id}", headers=auth).json()
        if body["status"] in {"succeeded", "failed", "dead"}:
            break
        assert time.monotonic() < deadline, body
        time.sleep(0.2)
    assert body["status"] == "succeeded", body
    assert client.get(f"{ANALYSES}/{job_id}", headers=auth).status_code == 200  # from the cache
    return token, job_id, upload


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scan]:
    tmp = tmp_path_factory.mktemp("telemetry")
    for env in _environment(tmp):
        worker_port = free_port()
        worker_env = {
            **env,
            "PROMETHEUS_MULTIPROC_DIR": str(tmp / "worker-metrics"),
            "ECO2_WORKER_METRICS_HOST": "127.0.0.1",
            "ECO2_WORKER_METRICS_PORT": str(worker_port),
        }
        api_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(tmp / "api-metrics")}
        worker = Worker(worker_env, "high_priority,low_priority", tmp / "worker.log")
        try:
            worker.wait_ready()
            with ApiProcess(tmp / "api.log", api_env, workers=2) as api:
                worker_metrics = f"http://127.0.0.1:{worker_port}/metrics"
                before_api, before_worker = scrape(f"{api.url}/metrics"), scrape(worker_metrics)
                request_id = f"test-{uuid.uuid4().hex}"
                with httpx.Client(base_url=api.url, timeout=30) as client:
                    token, job_id, upload = _scan(client, request_id)
                # Several scrapes: each may be answered by another uvicorn process; all must see the total.
                after_api = [scrape(f"{api.url}/metrics") for _ in range(6)]
                after_worker = scrape(worker_metrics)
        finally:
            worker.stop()
        yield Scan(
            api.url,
            worker_metrics,
            api.log_path,
            worker.log_path,
            token,
            request_id,
            job_id,
            upload,
            before_api,
            before_worker,
            after_api,
            after_worker,
        )


def moved(before: str, after: str, name: str, labels: dict[str, str] | None = None) -> float:
    return value(after, name, labels) - value(before, name, labels)


def test_api_counters_moved_in_every_uvicorn_process(scan: Scan) -> None:
    analyses = {"route": ANALYSES, "method": "POST", "status": "202"}
    read = {"route": ANALYSES + "/{job_id}", "method": "GET", "status": "200"}
    for after in scan.after_api:
        assert moved(scan.before_api, after, "eco2_http_requests_total", analyses) == 1
        assert moved(scan.before_api, after, "eco2_http_requests_total", read) >= 2
        timed = {"route": ANALYSES + "/{job_id}", "method": "GET"}
        assert moved(scan.before_api, after, "eco2_http_request_duration_seconds_count", timed) >= 2
        assert moved(scan.before_api, after, "eco2_scan_uploads_reserved_total") == 1
        assert moved(scan.before_api, after, "eco2_scan_uploads_received_total") == 1
        assert moved(scan.before_api, after, "eco2_scans_submitted_total", {"queue": "high_priority"}) == 1
        published = {"queue": "high_priority", "outcome": "published"}
        assert moved(scan.before_api, after, "eco2_scan_publishes_total", published) == 1
        hits = {"cache": "finished_job", "result": "hit"}
        assert moved(scan.before_api, after, "eco2_cache_requests_total", hits) >= 1
        assert value(after, "eco2_db_pool_waits_total", {"outcome": "timeout"}) == 0
        assert "eco2_jobs_queued_oldest_age_seconds" in after
    assert scan.job_id not in "".join(scan.after_api), "no id ever becomes a label"


def test_worker_counters_moved_in_the_pool_process(scan: Scan) -> None:
    before, after = scan.before_worker, scan.after_worker
    finished = {"queue": "high_priority", "outcome": "succeeded"}
    assert moved(before, after, "eco2_scans_finished_total", finished) == 1
    assert moved(before, after, "eco2_scan_queue_wait_seconds_count", {"queue": "high_priority"}) == 1
    assert moved(before, after, "eco2_scan_processing_seconds_count", finished) == 1
    assert moved(before, after, "eco2_classifier_duration_seconds_count", {"analyzer": "embedded"}) == 1
    task = {"task": "waste.analyze", "state": "SUCCESS"}
    assert moved(before, after, "eco2_worker_tasks_total", task) == 1
    assert value(after, "eco2_worker_pool_processes") == 1
    assert value(after, "eco2_worker_tasks_in_progress") == 0


def _json_lines(path: Path) -> list[dict[str, Any]]:
    events = []
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            events.append(json.loads(line))
    return events


def test_the_request_id_follows_the_scan_into_the_worker(scan: Scan) -> None:
    api_events = [e for e in _json_lines(scan.api_log) if e.get("request_id") == scan.request_id]
    worker_events = [e for e in _json_lines(scan.worker_log) if e.get("request_id") == scan.request_id]
    assert any(e.get("route") == ANALYSES and e.get("status") == 202 for e in api_events), api_events
    assert worker_events, "the worker's lines for the job carry the API's request id"
    assert all(e.get("job_id") == scan.job_id for e in worker_events if e["logger"] == "apps.waste.tasks")
    assert any(e.get("task") == "waste.analyze" for e in worker_events)
    routes = {str(e["route"]) for e in _json_lines(scan.api_log) if "route" in e}
    assert "/api/v1/auth/{provider}/token" in routes, (
        "request lines name the route template, not the raw path"
    )
    assert not any(scan.job_id in route for route in routes)


def test_no_secret_token_signature_or_photo_bytes_in_any_log_line(scan: Scan) -> None:
    logs = scan.api_log.read_text() + scan.worker_log.read_text()
    photo = SAMPLE_PHOTO.read_bytes()
    fields = scan.upload["upload_fields"]
    forbidden = {
        "bearer token": scan.token,
        "token signature": scan.token.rsplit(".", 1)[1],
        "token signing key": LOCAL_TOKEN_SIGNING_KEY.splitlines()[1],  # the test stack signs with it
        "S3 secret key": services.TEST_ENVIRONMENT["ECO2_S3_SECRET_ACCESS_KEY"],
        "presigned POST signature": fields["x-amz-signature"],
        "presigned POST policy": fields["policy"],
        "photo bytes (repr)": repr(photo[:12])[2:-1],
        "photo bytes (base64)": base64.b64encode(photo[:48]).decode()[:40],
    }
    assert len(logs.splitlines()) > 10, "the processes did log"
    leaked = [what for what, secret in forbidden.items() if secret in logs]
    assert not leaked, leaked
    assert "X-Amz-Signature=" not in logs
