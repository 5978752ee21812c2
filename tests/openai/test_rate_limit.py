"""The global limiter against the real local Redis: one fresh key per test."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from apps.core.rate_limit import RedisRateLimiter

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as error:  # pragma: no cover - environment problem, not a test outcome
        pytest.fail(f"local Redis is required for the rate limiter tests: {error}")
    yield client
    client.close()


@pytest.fixture
def key(redis_client: redis.Redis) -> Iterator[str]:
    name = f"test:rate-limit:{uuid.uuid4()}"
    yield name
    redis_client.delete(name)


def test_grants_the_burst_then_asks_to_wait_one_interval(redis_client: redis.Redis, key: str) -> None:
    limiter = RedisRateLimiter(redis_client, key, rate_per_minute=60, burst=3)

    granted = [limiter.try_acquire() for _ in range(3)]
    wait = limiter.try_acquire()

    assert granted == [0.0, 0.0, 0.0]
    assert 0.9 < wait <= 1.0  # one emission interval at 60/min


def test_a_denied_request_does_not_consume_a_slot(redis_client: redis.Redis, key: str) -> None:
    limiter = RedisRateLimiter(redis_client, key, rate_per_minute=600, burst=1)  # one slot per 100 ms

    assert limiter.try_acquire() == 0.0
    denials = [limiter.try_acquire() for _ in range(5)]
    time.sleep(max(denials[-1], 0.0) + 0.01)

    assert all(wait > 0 for wait in denials)
    assert limiter.try_acquire() == 0.0


def test_limiters_sharing_a_key_share_the_budget(redis_client: redis.Redis, key: str) -> None:
    """Two processes' limiters (here two instances) draw from one bucket: the limit is global."""
    first = RedisRateLimiter(redis_client, key, rate_per_minute=60, burst=2)
    second = RedisRateLimiter(redis.Redis.from_url(REDIS_URL), key, rate_per_minute=60, burst=2)

    assert first.try_acquire() == 0.0
    assert second.try_acquire() == 0.0
    assert first.try_acquire() > 0
    assert second.try_acquire() > 0


def test_the_key_expires_once_the_bucket_is_full_again(redis_client: redis.Redis, key: str) -> None:
    limiter = RedisRateLimiter(redis_client, key, rate_per_minute=60, burst=1)

    limiter.try_acquire()

    ttl_ms = int(redis_client.pttl(key))  # type: ignore[arg-type]  # sync client; stubs include async

    assert 0 < ttl_ms <= 1001


def test_acquire_waits_for_a_near_slot_and_gives_up_on_a_far_one(redis_client: redis.Redis, key: str) -> None:
    limiter = RedisRateLimiter(redis_client, key, rate_per_minute=300, burst=1)  # one slot per 200 ms
    assert limiter.acquire(max_wait=0.0) == 0.0

    started = time.monotonic()
    assert limiter.acquire(max_wait=0.5) == 0.0
    waited = time.monotonic() - started
    still_needed = limiter.acquire(max_wait=0.05)

    assert 0.1 < waited < 0.45
    assert 0.05 < still_needed <= 0.2


def test_threads_hammering_one_key_never_exceed_the_rate(redis_client: redis.Redis, key: str) -> None:
    rate_per_minute, burst, threads, duration = 1200, 4, 8, 1.5  # 20 per second sustained
    grants: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker() -> None:
        client = redis.Redis.from_url(REDIS_URL)
        own = RedisRateLimiter(client, key, rate_per_minute=rate_per_minute, burst=burst)
        start.wait()
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            if own.try_acquire() == 0.0:
                with lock:
                    grants.append(time.monotonic())
        client.close()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()

    interval = 60 / rate_per_minute
    grants.sort()
    # Over the whole run: the burst plus one grant per interval, nothing more.
    assert len(grants) <= burst + duration / interval + 1
    # ...and the limiter did let traffic through at close to the allowed rate.
    assert len(grants) >= 0.8 * (duration / interval)
    # In every half-second window, at most burst + window/interval grants (+2: client-side timestamps jitter).
    for index, first in enumerate(grants):
        in_window = [t for t in grants[index:] if t - first <= 0.5]
        assert len(in_window) <= burst + 0.5 / interval + 2


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (60, 0), (-5, 3)])
def test_rejects_nonsense_limits(redis_client: redis.Redis, key: str, rate: int, burst: int) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        RedisRateLimiter(redis_client, key, rate_per_minute=rate, burst=burst)
