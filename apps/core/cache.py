"""Redis: the shared cache and the home of the rate limits. Never the source of truth.

Two clients with the same fail-fast behaviour: `GuardedRedis` (blocking, for request threads and workers)
and `GuardedAsyncRedis` (for `async` hot paths on the event loop, made in the app's lifespan).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from apps.core.circuit import CircuitBreaker
from apps.core.settings import get_settings

REDIS_FAILURES_TO_OPEN = 5


class RedisCircuitOpen(redis.ConnectionError):
    """Redis was not called: its circuit is open (the opening was logged once, callers need not log this)."""


class GuardedRedis(redis.Redis):
    """A Redis client behind a circuit breaker: while Redis is unreachable, commands fail at once with
    `redis.ConnectionError` instead of each waiting for a timeout. Callers treat that as a miss."""

    breaker: CircuitBreaker

    def execute_command(self, *args: Any, **options: Any) -> Any:
        if not self.breaker.allow():
            raise RedisCircuitOpen("Redis circuit open")
        try:
            result = super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        except (redis.ConnectionError, redis.TimeoutError):
            self.breaker.record_failure()
            raise
        self.breaker.record_success()
        return result


class GuardedAsyncRedis(redis.asyncio.Redis):
    """`GuardedRedis` for the event loop: the same timeouts, the same kind of circuit breaker."""

    breaker: CircuitBreaker

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        if not self.breaker.allow():
            raise RedisCircuitOpen("Redis circuit open")
        try:
            result = await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        except (redis.ConnectionError, redis.TimeoutError):
            self.breaker.record_failure()
            raise
        self.breaker.record_success()
        return result


def _guard(client: GuardedRedis | GuardedAsyncRedis, breaker_reset_seconds: float | None) -> None:
    reset = (
        get_settings().dependency_breaker_reset_seconds
        if breaker_reset_seconds is None
        else breaker_reset_seconds
    )
    # Five failures in a row, not one: a slow moment must not open the circuit (while it is open, the token
    # revocation check fails closed and every authenticated request gets a 503).
    client.breaker = CircuitBreaker(
        f"Redis at {client.connection_pool.connection_kwargs.get('host')}",
        failure_threshold=REDIS_FAILURES_TO_OPEN,
        reset_seconds=reset,
    )


def _timeout(timeout_seconds: float | None) -> float:
    return get_settings().redis_timeout_seconds if timeout_seconds is None else timeout_seconds


def make_redis(
    url: str, timeout_seconds: float | None = None, breaker_reset_seconds: float | None = None
) -> redis.Redis:
    """A client that fails fast (short timeouts, no retry, a circuit breaker)."""
    timeout = _timeout(timeout_seconds)
    client = cast(
        GuardedRedis,
        GuardedRedis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), retries=0)
        ),
    )
    _guard(client, breaker_reset_seconds)
    return client


def make_async_redis(
    url: str, timeout_seconds: float | None = None, breaker_reset_seconds: float | None = None
) -> GuardedAsyncRedis:
    """`make_redis` for the event loop it is first used on (create it there, close it with `aclose`)."""
    timeout = _timeout(timeout_seconds)
    client = cast(
        GuardedAsyncRedis,
        GuardedAsyncRedis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=AsyncRetry(NoBackoff(), retries=0),
        ),
    )
    _guard(client, breaker_reset_seconds)
    return client


@lru_cache
def get_redis() -> redis.Redis:
    return make_redis(get_settings().redis_url)
