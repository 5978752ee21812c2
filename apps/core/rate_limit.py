"""A rate limit shared by every process: GCRA (generic cell rate algorithm) in one atomic Redis script.

Celery's ``rate_limit`` counts per worker; an upstream quota (OpenAI requests per minute) is per account, so
the state must live in Redis. The API's per-user and per-IP request limits (`RequestLimiter`) use the same
script over several keys. GCRA keeps a single number per key, the theoretical arrival time (TAT) of the
next request, and uses Redis' own clock so that workers with skewed clocks agree.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import redis

from apps.core.cache import RedisCircuitOpen
from apps.core.errors import Eco2Error

logger = logging.getLogger(__name__)

# KEYS = bucket keys; ARGV = (emission interval in µs, burst) for each key in turn. A request is granted only
# when every bucket has room, and then takes a slot from each (all in one round trip, atomically).
# Returns 0 when granted, else the wait in µs until it would be. The TAT is stored with
# string.format('%d'): Lua's default number formatting keeps only 14 significant digits.
_GCRA_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local wait = 0
local new_tats = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key))
  if tat == nil or tat < now then
    tat = now
  end
  new_tats[i] = tat + interval
  local allowed_at = new_tats[i] - interval * burst
  if now < allowed_at and allowed_at - now > wait then
    wait = allowed_at - now
  end
end
if wait > 0 then
  return wait
end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, string.format('%d', new_tats[i]), 'PX', math.ceil((new_tats[i] - now) / 1000) + 1)
end
return 0
"""


class _ScriptingRedis(Protocol):
    def register_script(self, script: str) -> Any: ...


class RedisRateLimiter:
    """At most `burst` requests at once and `rate_per_minute` sustained, across every process using `key`."""

    def __init__(self, redis_client: _ScriptingRedis, key: str, rate_per_minute: int, burst: int) -> None:
        if rate_per_minute <= 0:
            raise ValueError(f"rate_per_minute must be positive, got {rate_per_minute}")
        if burst <= 0:
            raise ValueError(f"burst must be positive, got {burst}")
        self.key = key
        self.rate_per_minute = rate_per_minute
        self.burst = burst
        self._interval_us = round(60_000_000 / rate_per_minute)
        self._script = redis_client.register_script(_GCRA_SCRIPT)

    def try_acquire(self) -> float:
        """Take a slot if one is free: 0.0 when granted, else the seconds to wait before one will be."""
        wait_us = int(self._script(keys=[self.key], args=[self._interval_us, self.burst]))
        return wait_us / 1_000_000

    def acquire(self, max_wait: float) -> float:
        """Wait up to `max_wait` seconds for a slot: 0.0 when granted, else the wait still needed.

        A caller that gets a positive number was not granted and should give the time back (e.g. retry the
        task later) rather than block a worker.
        """
        deadline = time.monotonic() + max_wait
        while True:
            wait = self.try_acquire()
            if wait == 0.0:
                return 0.0
            remaining = deadline - time.monotonic()
            if wait > remaining:
                return wait
            time.sleep(wait)


class RateLimited(Eco2Error):
    status_code = 429

    def __init__(self, retry_after_seconds: float) -> None:
        seconds = max(1, math.ceil(retry_after_seconds))
        super().__init__(f"too many requests; retry in {seconds} s", {"Retry-After": str(seconds)})


@dataclass(frozen=True)
class Limit:
    """`rate_per_minute` sustained, bursts of `burst`, for each subject (a user, an IP address)."""

    name: str
    rate_per_minute: int
    burst: int

    def key(self, namespace: str, subject: str) -> str:
        return f"{namespace}:rate-limit:{self.name}:{subject}"


class RequestLimiter:
    """Several keyed limits checked and taken together in one Redis round trip, on the event loop (the app's
    async Redis client: no thread hop for a request's limit check).

    Fails open: when Redis is unreachable the request proceeds (logged); Redis trouble must not take the
    API down, and the circuit breaker of the client makes that check free while Redis is out.
    """

    def __init__(self, redis_client: _ScriptingRedis) -> None:
        self._script = redis_client.register_script(_GCRA_SCRIPT)

    async def try_acquire(self, namespace: str, checks: Sequence[tuple[Limit, str]]) -> float:
        """0.0 when every (limit, subject) has room (a slot of each is taken), else the seconds to wait."""
        keys: list[str] = []
        args: list[int] = []
        for limit, subject in checks:
            keys.append(limit.key(namespace, subject))
            args += [round(60_000_000 / limit.rate_per_minute), limit.burst]
        try:
            wait_us = int(await self._script(keys=keys, args=args))
        except RedisCircuitOpen:
            return 0.0
        except redis.RedisError as error:
            logger.warning("rate limits unavailable, letting the request through: %s", type(error).__name__)
            return 0.0
        return wait_us / 1_000_000

    async def enforce(self, namespace: str, checks: Sequence[tuple[Limit, str]]) -> None:
        wait = await self.try_acquire(namespace, checks)
        if wait > 0:
            raise RateLimited(wait)
