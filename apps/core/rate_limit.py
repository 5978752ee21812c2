"""A rate limit shared by every process: GCRA (generic cell rate algorithm) in one atomic Redis script.

Celery's ``rate_limit`` counts per worker; an upstream quota (OpenAI requests per minute) is per account, so
the state must live in Redis. GCRA keeps a single number per key, the theoretical arrival time (TAT) of the
next request, and uses Redis' own clock so that workers with skewed clocks agree.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

# KEYS[1] = bucket key; ARGV[1] = emission interval (µs), ARGV[2] = burst.
# Returns 0 when granted, else the wait in µs until the next request would be granted. The TAT is stored
# with string.format('%d'): Lua's default number formatting keeps only 14 significant digits.
_GCRA_SCRIPT = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then
  tat = now
end
local new_tat = tat + interval
local allowed_at = new_tat - interval * burst
if now < allowed_at then
  return allowed_at - now
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
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
