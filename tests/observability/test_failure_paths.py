"""The instrumentation's own failure paths: measuring never fails the request or the task it measures."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, ClassVar

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import create_engine

from apps.core.observability import celery as observability_celery
from apps.core.observability.metrics import clear_stale_files
from apps.core.settings import Settings
from apps.waste.analysis.errors import AnalyzerError
from apps.waste.analysis.openai_vision import OpenAICaller
from apps.waste.cache import cached_body
from apps.waste.exceptions import IdempotencyKeyReused, UploadNotReceived
from apps.waste.metrics import QueuedJobsCollector, queue_label, rejection_reason
from tests.support.provisioning import free_port


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_an_unreachable_database_leaves_the_queued_job_gauges_out_of_the_scrape(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none", pool_pre_ping=False)
    with caplog.at_level(logging.WARNING):
        assert list(QueuedJobsCollector(engine).collect()) == []
    assert "could not count queued jobs" in caplog.text
    engine.dispose()


def test_an_unreadable_cache_entry_counts_a_cache_error_and_misses() -> None:
    import uuid

    before = sample("eco2_cache_requests_total", cache="finished_job", result="error")
    assert cached_body(b"{not an entry", uuid.uuid4()) is None
    assert sample("eco2_cache_requests_total", cache="finished_job", result="error") == before + 1


class _NoLimit:
    def acquire(self, max_wait: float) -> float:
        return 0.0


def test_a_failed_openai_call_is_counted_by_its_reason() -> None:
    caller = OpenAICaller(Settings(openai_api_key=None), rate_limiter=_NoLimit())  # type: ignore[arg-type]
    before = sample("eco2_openai_requests_total", purpose="coach", outcome="not_configured")
    with pytest.raises(AnalyzerError):
        caller.parse([], Settings, max_completion_tokens=10, purpose="coach")
    assert sample("eco2_openai_requests_total", purpose="coach", outcome="not_configured") == before + 1


def test_label_values_come_from_closed_sets() -> None:
    assert rejection_reason(UploadNotReceived("x")) == "upload_not_received"
    assert rejection_reason(IdempotencyKeyReused("x")) == "idempotency_key_reused"
    assert queue_label("high_priority") == "high_priority"
    assert queue_label("anything/else") == "other"
    assert queue_label(None) == "other"


class _Message:
    def __init__(self, headers: dict[str, Any]) -> None:
        self.headers = headers
        self.acked = False

    def ack(self) -> None:
        self.acked = True


def test_a_dead_letter_without_a_job_id_is_counted_and_dropped() -> None:
    from apps.worker import handle_dead_letter

    message = _Message({"x-death": [{"queue": "high_priority", "reason": "rejected", "count": 1}]})
    before = sample("eco2_dead_letters_total", queue="high_priority", result="no_job_id")
    handle_dead_letter([[], {}, {}], message)
    assert message.acked
    assert sample("eco2_dead_letters_total", queue="high_priority", result="no_job_id") == before + 1


def test_a_worker_clears_files_of_an_earlier_run_but_keeps_its_own(tmp_path: Path) -> None:
    own = tmp_path / f"counter_{os.getpid()}.db"
    stale = tmp_path / "counter_1.db"
    live_gauge = tmp_path / "gauge_livesum_2.db"
    for path in (own, stale, live_gauge):
        path.write_bytes(b"")
    assert clear_stale_files(str(tmp_path), keep_pid=os.getpid()) == 2
    assert own.exists() and not stale.exists() and not live_gauge.exists()


def test_a_worker_without_a_multiprocess_directory_says_its_metrics_are_partial(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with caplog.at_level(logging.WARNING):
        observability_celery.prepare_worker_metrics()
    assert "PROMETHEUS_MULTIPROC_DIR is not set" in caplog.text


def test_the_request_id_rides_in_task_headers() -> None:
    from apps.core.observability.logging import bind

    headers: dict[str, Any] = {}
    with bind(request_id="req-abcdef12"):
        observability_celery._add_request_id(headers=headers)
    assert headers == {observability_celery.REQUEST_ID_HEADER: "req-abcdef12"}
    untouched: dict[str, Any] = {}
    observability_celery._add_request_id(headers=untouched)
    assert untouched == {}, "no request, no header"

    class Request:
        eco2_request_id = None
        headers: ClassVar[dict[str, str]] = {observability_celery.REQUEST_ID_HEADER: "req-from-headers"}

    assert observability_celery.request_id_of(Request()) == "req-from-headers"
