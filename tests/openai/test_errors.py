"""Retryability and the recommended backoff are policy: pin them down."""

from __future__ import annotations

import pytest

from apps.waste.analysis.errors import AnalyzerError, FailureReason, retry_delay

RETRYABLE = {"timeout", "connection_error", "rate_limited", "throttled", "server_error", "invalid_output"}


@pytest.mark.parametrize("reason", list(FailureReason))
def test_retryable_follows_the_reason(reason: FailureReason) -> None:
    error = AnalyzerError(reason, "detail")

    assert error.retryable is (reason.value in RETRYABLE)
    assert error.reason == reason.value
    assert str(error) == f"{reason.value}: detail"


def test_backoff_doubles_from_base_up_to_the_cap() -> None:
    error = AnalyzerError(FailureReason.SERVER_ERROR, "HTTP 500")

    highest = [retry_delay(error, n, base=2, cap=30, jitter=lambda: 1.0) for n in range(6)]
    lowest = [retry_delay(error, n, base=2, cap=30, jitter=lambda: 0.0) for n in range(6)]

    assert highest == [2, 4, 8, 16, 30, 30]
    assert lowest == [1, 2, 4, 8, 15, 15]


def test_backoff_never_undercuts_retry_after() -> None:
    error = AnalyzerError(FailureReason.RATE_LIMITED, "HTTP 429", retry_after=20.0)

    assert retry_delay(error, 0, jitter=lambda: 0.5) == 20.0
    assert retry_delay(error, 5, jitter=lambda: 1.0) == 30.0


def test_default_jitter_stays_within_the_window() -> None:
    error = AnalyzerError(FailureReason.TIMEOUT, "slow")

    delays = {retry_delay(error, 2) for _ in range(200)}

    assert all(4.0 <= delay <= 8.0 for delay in delays)
    assert len(delays) > 100  # actually jittered
