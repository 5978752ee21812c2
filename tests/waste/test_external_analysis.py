"""The `external_api` path with a real worker process and the fake OpenAI server: delayed retry, fallback."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from pydantic import SecretStr

from apps.core.db import get_engine
from apps.core.queue_table import QueueName
from apps.core.settings import get_settings
from apps.core.storage import get_s3_client
from apps.waste import service
from apps.waste.schemas import AnalysisCreate
from tests.fakes.openai_server import Completion, FakeOpenAIServer, HTTPError, Refusal
from tests.waste.conftest import SAMPLE_PHOTO, Worker, upload_photo, wait_for_status

pytestmark = pytest.mark.slow

API_KEY = "sk-test-external"
READING = {
    "observation": "라벨이 붙은 투명한 페트병이에요.",
    "is_waste": True,
    "category": "recyclable/clear_pet",
    "item": None,
    "confidence": 0.93,
    "alternatives": [{"category": "recyclable/plastic", "probability": 0.05}],
    "conditions": ["label_attached"],
}


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def external_worker(start_worker: Callable[..., Worker], fake_openai: FakeOpenAIServer) -> Worker:
    return start_worker(
        queues="external_api",
        ECO2_ANALYZER="openai",
        ECO2_OPENAI_API_KEY=API_KEY,
        ECO2_OPENAI_BASE_URL=fake_openai.base_url,
        ECO2_OPENAI_TIMEOUT_SECONDS="5",
    )


def submit_external(api: httpx.Client, auth: dict[str, str]) -> str:
    """Submit through the service with OpenAI configured, so the job is routed to `external_api`."""
    upload_id = upload_photo(api, auth, SAMPLE_PHOTO.read_bytes())
    user_id = uuid.UUID(api.get("/api/v1/users/me", headers=auth).json()["id"])
    settings = get_settings().model_copy(update={"analyzer": "openai", "openai_api_key": SecretStr(API_KEY)})
    submission = service.submit_analysis(
        get_engine(), get_s3_client(), settings, user_id, AnalysisCreate(upload_id=upload_id), None
    )
    assert submission.queue == QueueName.EXTERNAL_API
    assert service.publish_submitted(get_engine(), submission)
    return str(submission.job_id)


def test_openai_server_error_is_retried_later_then_answers(
    api: httpx.Client, auth: dict[str, str], fake_openai: FakeOpenAIServer, external_worker: Worker
) -> None:
    # vision: 500, then the reading; coach: no script left → 500 → the offline coach answers.
    fake_openai.script(HTTPError(500), Completion.of(READING))
    job_id = submit_external(api, auth)
    body = wait_for_status(api, auth, job_id, {"succeeded", "failed", "dead"}, timeout=60)
    assert body["status"] == "succeeded", external_worker.output()[-3000:]
    classification = body["result"]["answer"]["classification"]
    assert classification["source"] == "openai"
    assert classification["category"] == "recyclable/clear_pet"
    assert classification["fallback_reason"] is None
    assert any("라벨" in step for step in body["result"]["answer"]["steps"])
    vision_requests = [r for r in fake_openai.requests if r.image_urls]
    assert len(vision_requests) == 2, "the first attempt failed, the delayed retry succeeded"
    assert vision_requests[1].image_urls[0].startswith("data:image/jpeg;base64,")


def test_openai_refusal_falls_back_to_the_embedded_analyzer_at_once(
    api: httpx.Client, auth: dict[str, str], fake_openai: FakeOpenAIServer, external_worker: Worker
) -> None:
    fake_openai.script(Refusal())
    job_id = submit_external(api, auth)
    body = wait_for_status(api, auth, job_id, {"succeeded", "failed", "dead"}, timeout=60)
    assert body["status"] == "succeeded", external_worker.output()[-3000:]
    classification = body["result"]["answer"]["classification"]
    assert classification["source"] == "embedded"
    assert classification["fallback_reason"] == "refusal"
    assert len([r for r in fake_openai.requests if r.image_urls]) == 1, "a refusal is not retried"
