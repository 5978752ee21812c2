"""Redis: the shared cache (and the home of the global OpenAI rate limit). Never the source of truth."""

from __future__ import annotations

from functools import lru_cache

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from apps.core.settings import get_settings


def make_redis(url: str) -> redis.Redis:
    """A client that fails fast: callers treat Redis trouble as a cache miss, not as an outage."""
    return redis.Redis.from_url(
        url,
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), retries=1),  # reconnect a dropped pooled connection once, then give up
    )


@lru_cache
def get_redis() -> redis.Redis:
    return make_redis(get_settings().redis_url)
