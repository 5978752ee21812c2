"""Keyed request limits on the real Redis, the circuit breaker, fail-fast Redis, redacted settings errors."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from pydantic import ValidationError

from apps.core.cache import REDIS_FAILURES_TO_OPEN, GuardedAsyncRedis, make_async_redis, make_redis
from apps.core.circuit import CircuitBreaker
from apps.core.rate_limit import Limit, RateLimited, RedisRateLimiter, RequestLimiter
from apps.core.settings import Settings
from tests.support.provisioning import free_port

REDIS_URL = "redis://127.0.0.1:6379/15"


class Limits:
    """The async `RequestLimiter` on the real Redis, driven from a test's own event loop."""

    def __init__(self, client: GuardedAsyncRedis, namespace: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = client
        self.limiter = RequestLimiter(client)
        self.namespace = namespace

    def try_acquire(self, checks: list[tuple[Limit, str]]) -> float:
        return self.loop.run_until_complete(self.limiter.try_acquire(self.namespace, checks))

    def enforce(self, checks: list[tuple[Limit, str]]) -> None:
        self.loop.run_until_complete(self.limiter.enforce(self.namespace, checks))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture
def limiter() -> Iterator[Limits]:
    namespace = f"test-{uuid.uuid4()}"
    limits = Limits(make_async_redis(REDIS_URL), namespace)
    yield limits
    limits.close()
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{namespace}:*"):
        client.delete(key)
    client.close()


def test_a_subject_gets_its_burst_then_a_429_with_retry_after(limiter: Limits) -> None:
    per_user = Limit("uploads:user", rate_per_minute=6, burst=2)
    assert limiter.try_acquire([(per_user, "alice")]) == 0.0
    assert limiter.try_acquire([(per_user, "alice")]) == 0.0
    with pytest.raises(RateLimited) as limited:
        limiter.enforce([(per_user, "alice")])
    assert limited.value.status_code == 429
    assert 1 <= int(limited.value.headers["Retry-After"]) <= 10
    assert limiter.try_acquire([(per_user, "bob")]) == 0.0, "another user has a bucket of their own"


def test_a_request_takes_from_every_bucket_only_when_all_have_room(limiter: Limits) -> None:
    per_ip = Limit("analyses:ip", rate_per_minute=60, burst=3)
    per_user = Limit("analyses:user", rate_per_minute=60, burst=1)
    assert limiter.try_acquire([(per_ip, "10.0.0.1"), (per_user, "alice")]) == 0.0
    assert limiter.try_acquire([(per_ip, "10.0.0.1"), (per_user, "alice")]) > 0  # alice is over
    # The refused request took nothing from the IP bucket: two more users fit in its burst of three.
    assert limiter.try_acquire([(per_ip, "10.0.0.1"), (per_user, "bob")]) == 0.0
    assert limiter.try_acquire([(per_ip, "10.0.0.1"), (per_user, "carol")]) == 0.0
    assert limiter.try_acquire([(per_ip, "10.0.0.1"), (per_user, "dave")]) > 0  # the IP is over


def test_limits_fail_open_and_fast_when_redis_is_unreachable() -> None:
    unreachable = Limits(make_async_redis(f"redis://127.0.0.1:{free_port()}/0"), "test")
    started = time.monotonic()
    for _ in range(20):
        unreachable.enforce([(Limit("search:ip", 1, 1), "10.0.0.1")])
    assert time.monotonic() - started < 1.0
    unreachable.close()


def test_the_single_key_limiter_keeps_its_interface() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    key = f"test:rate-limit:{uuid.uuid4()}"
    limiter = RedisRateLimiter(client, key, rate_per_minute=60, burst=1)
    assert limiter.try_acquire() == 0.0
    assert 0 < limiter.try_acquire() <= 1.0
    assert limiter.acquire(max_wait=0.0) > 0
    client.delete(key)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_the_threshold_and_lets_one_trial_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("dependency", failure_threshold=2, reset_seconds=5, clock=clock)
    breaker.record_failure()
    assert breaker.allow(), "one failure is not an outage"
    breaker.record_failure()
    assert not breaker.allow() and breaker.is_open
    clock.now += 5
    assert breaker.allow(), "after the reset period one trial goes through"
    assert not breaker.allow(), "only one"
    breaker.record_failure()
    assert not breaker.allow()
    clock.now += 5
    assert breaker.allow()
    breaker.record_success()
    assert breaker.allow() and breaker.allow() and not breaker.is_open


def test_an_open_redis_circuit_costs_nothing() -> None:
    client = make_redis(f"redis://127.0.0.1:{free_port()}/0")
    for _ in range(REDIS_FAILURES_TO_OPEN):
        with pytest.raises(redis.ConnectionError):
            client.get("k")
    started = time.monotonic()
    with pytest.raises(redis.ConnectionError, match="circuit open"):
        client.get("k")
    assert time.monotonic() - started < 0.01


def test_settings_errors_never_print_secrets() -> None:
    secret = "s3-SECRET-value-that-must-not-leak"
    with pytest.raises(ValidationError) as invalid:
        Settings(
            _env_file=None,
            environment="prod",
            s3_secret_access_key=secret,
            database_url="postgresql+psycopg://eco2:db-password-123@db/eco2",
        )
    text = str(invalid.value) + repr(invalid.value)  # what a crash prints
    assert "ECO2_TOKEN_SIGNING_KEY" in text
    assert secret not in text and secret[:8] not in text and "db-password" not in text
    with pytest.raises(ValidationError) as invalid_number:
        Settings(_env_file=None, max_body_bytes="lots-of-bytes-and-a-secret")
    assert "lots-of-bytes" not in str(invalid_number.value)
