"""Fixtures: a fake OpenAI server per test, settings pointing at it, and a per-test global rate limiter."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import pytest
import redis
from PIL import Image

from apps.core.rate_limit import RedisRateLimiter
from apps.core.settings import Settings
from apps.waste.analysis.openai_vision import OpenAICaller
from apps.waste.analysis.types import ImageInput
from tests.fakes.openai_server import FakeOpenAIServer

REDIS_URL = "redis://127.0.0.1:6379/15"
API_KEY = "sk-test-eco2"


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def settings(fake_openai: FakeOpenAIServer) -> Settings:
    return Settings(
        _env_file=None,
        openai_api_key=API_KEY,
        openai_base_url=fake_openai.base_url,
        openai_model="gpt-4o-2024-08-06",
        openai_timeout_seconds=0.5,
        classifier_threshold=0.6,
    )


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def rate_limiter(redis_client: redis.Redis) -> Iterator[RedisRateLimiter]:
    """A generous limiter on a key of its own, so tests never share (or exhaust) a bucket."""
    key = f"test:openai-rate:{uuid.uuid4()}"
    yield RedisRateLimiter(redis_client, key, rate_per_minute=6000, burst=100)
    redis_client.delete(key)


@pytest.fixture
def caller(settings: Settings, rate_limiter: RedisRateLimiter) -> OpenAICaller:
    return OpenAICaller(settings, rate_limiter=rate_limiter)


def photo(width: int = 640, height: int = 480, url: str | None = None, fmt: str = "JPEG") -> ImageInput:
    """A decoded upload: a plain coloured picture encoded as `fmt`."""
    image = Image.new("RGB", (width, height), (40, 120, 200))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return ImageInput(data=buffer.getvalue(), content_type=f"image/{fmt.lower()}", image=image, url=url)
