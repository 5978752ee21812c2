"""A circuit breaker: after repeated failures of a dependency, stop calling it for a while.

Closed: calls go through. After `failure_threshold` consecutive failures it opens for `reset_seconds`: callers
skip the dependency at once (a cache miss, a job left for the sweeper) instead of each waiting for a timeout.
Then one trial call is let through (half-open); its success closes the circuit, its failure re-opens it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        failure_threshold: int = 2,
        reset_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or reset_seconds <= 0:
            raise ValueError("failure_threshold must be >= 1 and reset_seconds > 0")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until = 0.0

    @property
    def is_open(self) -> bool:
        return self._failures >= self.failure_threshold and self._clock() < self._open_until

    def allow(self) -> bool:
        """May the caller try the dependency now? In the half-open state only one caller per period may."""
        with self._lock:
            if self._failures < self.failure_threshold:
                return True
            now = self._clock()
            if now < self._open_until:
                return False
            self._open_until = now + self.reset_seconds  # this caller is the trial; the others keep skipping
            return True

    def record_success(self) -> None:
        with self._lock:
            if self._failures >= self.failure_threshold:
                logger.info("%s is reachable again; circuit closed", self.name)
            self._failures = 0
            self._open_until = 0.0

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures == self.failure_threshold:
                logger.warning(
                    "%s failed %d times; skipping it for %.0f s",
                    self.name,
                    self._failures,
                    self.reset_seconds,
                )
            if self._failures >= self.failure_threshold:
                self._open_until = self._clock() + self.reset_seconds
