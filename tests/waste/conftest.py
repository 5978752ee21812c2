"""Scan-flow fixtures: a signed-in user, photos, and Celery workers as real processes (the stack itself:
tests/support/stack_fixtures.py)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.support import services
from tests.support.identity import sign_in

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_PHOTO = REPO_ROOT / "apps" / "samples" / "pet-bottle.jpg"


@pytest.fixture
def user_token(api: httpx.Client) -> str:
    return sign_in(api).access_token


@pytest.fixture
def auth(user_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {user_token}"}


def image_bytes(
    fmt: str = "JPEG", size: tuple[int, int] = (320, 240), color: tuple[int, int, int] = (40, 120, 200)
) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, color)
    for x in range(0, size[0], 16):  # some structure, so the codec has work to do
        for y in range(0, size[1], 16):
            image.putpixel((x, y), (255, 255, 255))
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def upload_photo(
    api: httpx.Client, auth: dict[str, str], data: bytes, content_type: str = "image/jpeg"
) -> str:
    """Reserve an upload, POST the bytes to S3 with the presigned form, return the upload id."""
    created = api.post("/api/v1/waste/uploads", json={"content_type": content_type}, headers=auth)
    assert created.status_code == 201, created.text
    body = created.json()
    sent = httpx.post(
        body["upload_url"],
        data=body["upload_fields"],
        files={"file": ("photo", data, content_type)},
        timeout=30,
    )
    assert sent.status_code in (200, 204), sent.text
    upload_id: str = body["upload_id"]
    return upload_id


def wait_for_status(
    api: httpx.Client, auth: dict[str, str], job_id: str, wanted: set[str], timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = api.get(f"/api/v1/waste/analyses/{job_id}", headers=auth).json()
        if body["status"] in wanted:
            return body
        assert time.monotonic() < deadline, f"job {job_id} stuck in {body['status']}"
        time.sleep(0.2)


class Worker:
    """A Celery worker as a real OS process (its own session, so SIGKILL reaches its pool children)."""

    def __init__(self, env: dict[str, str], queues: str, log_path: Path) -> None:
        self.log_path = log_path
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.worker_entry",
                "worker",
                "-Q",
                queues,
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                "INFO",
            ],
            cwd=REPO_ROOT,
            env={**os.environ, "ECO2_BROKER_URL": services.DIRECT_BROKER_URL, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while "ready." not in self.log_path.read_text():
            assert self.process.poll() is None, f"worker exited:\n{self.log_path.read_text()}"
            assert time.monotonic() < deadline, f"worker not ready:\n{self.log_path.read_text()}"
            time.sleep(0.1)

    def kill(self) -> None:
        os.killpg(self.process.pid, 9)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text()


@pytest.fixture
def start_worker(api: httpx.Client, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(queues: str = "high_priority,low_priority", **env: str) -> Worker:
        worker = Worker(env, queues, tmp_path / f"worker-{len(started) + 1}.log")
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()
