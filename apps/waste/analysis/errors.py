"""Typed analyzer failures: what went wrong, and whether trying again later can help.

The scan task retries a retryable `AnalyzerError` with backoff and, once attempts run out (or at once for a
non-retryable one), answers with the embedded analyzer and records `reason` as the classification's
``fallback_reason``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from enum import StrEnum


class FailureReason(StrEnum):
    """Short machine-readable reasons; the values end up in ``Classification.fallback_reason``."""

    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    RATE_LIMITED = "rate_limited"
    """The provider answered 429."""
    THROTTLED = "throttled"
    """Our own global rate limit had no slot free soon enough; nothing was sent."""
    SERVER_ERROR = "server_error"
    INVALID_OUTPUT = "invalid_output"
    REFUSAL = "refusal"
    CONTENT_FILTERED = "content_filtered"
    UNAUTHORIZED = "unauthorized"
    BAD_REQUEST = "bad_request"
    NOT_CONFIGURED = "not_configured"


RETRYABLE_REASONS = frozenset(
    {
        FailureReason.TIMEOUT,
        FailureReason.CONNECTION_ERROR,
        FailureReason.RATE_LIMITED,
        FailureReason.THROTTLED,
        FailureReason.SERVER_ERROR,
        FailureReason.INVALID_OUTPUT,
    }
)


class AnalyzerError(Exception):
    """An analyzer could not produce a classification.

    `retryable` follows from `reason`: transient provider trouble and malformed output may succeed on a later
    attempt; a refusal, a rejected request or a missing configuration will not. `retry_after` carries the
    provider's (or our limiter's) hint in seconds when there is one.
    """

    def __init__(self, reason: FailureReason, detail: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: str = reason
        self.detail = detail
        self.retryable: bool = reason in RETRYABLE_REASONS
        self.retry_after = retry_after


def retry_delay(
    error: AnalyzerError,
    retries_done: int,
    *,
    base: float = 2.0,
    cap: float = 30.0,
    jitter: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before the next attempt: exponential backoff with "equal jitter", never sooner than
    the provider's (or our limiter's) ``retry_after``.

    Attempt n waits between half and all of ``min(cap, base * 2**n)``: the jitter spreads workers that failed
    together, the floor keeps every wait meaningful.
    """
    ceiling = min(cap, base * 2.0**retries_done)
    backoff = ceiling / 2 + jitter() * ceiling / 2
    return max(backoff, error.retry_after or 0.0)
