"""The measured pool: connections in use, and checkouts that waited (got one, or timed out)."""

from __future__ import annotations

import threading
import time

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, exc

from apps.core.observability.db_pool import InstrumentedQueuePool
from tests.support.provisioning import ADMIN_DATABASE_URL


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_in_use_and_waits_are_measured() -> None:
    engine = create_engine(
        ADMIN_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://"),
        poolclass=InstrumentedQueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.3,
    )
    try:
        timeouts = sample("eco2_db_pool_waits_total", outcome="timeout")
        acquired = sample("eco2_db_pool_waits_total", outcome="acquired")
        first = engine.connect()
        assert sample("eco2_db_pool_connections_in_use") == 1
        with pytest.raises(exc.TimeoutError):
            engine.connect()
        assert sample("eco2_db_pool_waits_total", outcome="timeout") == timeouts + 1

        def release_soon() -> None:
            time.sleep(0.1)
            first.close()

        threading.Thread(target=release_soon, daemon=True).start()
        second = engine.connect()  # waits until the first is returned
        assert sample("eco2_db_pool_waits_total", outcome="acquired") == acquired + 1
        second.close()
        assert sample("eco2_db_pool_connections_in_use") == 0
        assert sample("eco2_db_pool_wait_seconds_count") >= 2
    finally:
        engine.dispose()
