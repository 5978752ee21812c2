"""The async hot path's clients (apps/core/async_clients.py): a bounded pool that never hangs on a dead or
silent PostgreSQL, and an async Redis client that fails fast behind its circuit breaker."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from apps.core.async_clients import AsyncClients, AsyncClientsDep, open_async_clients
from apps.core.async_db import AsyncConnectionPool, PoolExhausted, QueryTimeout, psycopg_conninfo
from apps.core.cache import REDIS_FAILURES_TO_OPEN, make_async_redis
from apps.core.errors import install_error_handlers
from apps.core.settings import get_settings
from apps.waste.cache import FinishedJobCache
from apps.waste.models import JobStatus
from tests.support.provisioning import free_port
from tests.support.tcp_proxy import TcpProxy


def _pool(database_url: str, size: int = 1, query_timeout_s: float = 3.0) -> AsyncConnectionPool:
    return AsyncConnectionPool(
        database_url, size=size, checkout_timeout_s=0.2, connect_timeout_s=2, query_timeout_s=query_timeout_s
    )


def test_the_conninfo_drops_the_sqlalchemy_driver_name() -> None:
    assert psycopg_conninfo("postgresql+psycopg://app:secret@db:5432/eco2") == (
        "postgresql://app:secret@db:5432/eco2"
    )


def test_a_checkout_waits_at_most_the_timeout_when_every_connection_is_busy(database: str) -> None:
    async def scenario() -> None:
        pool = _pool(database)
        async with pool.connection():
            started = time.monotonic()
            with pytest.raises(PoolExhausted):
                async with pool.connection():
                    pass
            assert time.monotonic() - started < 1.0
        assert await pool.fetch_one("SELECT 1", {}) == (1,)  # freed again: the slot came back
        await pool.close()

    asyncio.run(scenario())


def test_a_connection_that_failed_in_use_is_closed_not_reused(database: str) -> None:
    async def scenario() -> None:
        pool = _pool(database)
        with pytest.raises(psycopg.errors.UndefinedTable):
            async with pool.connection() as failed:
                await failed.execute("SELECT * FROM no_such_table")
        assert failed.closed
        async with pool.connection() as connection:
            assert connection is not failed
        async with pool.connection() as again:
            assert again is connection, "a healthy connection goes back to the pool"
        await pool.close()
        assert connection.closed

    asyncio.run(scenario())


def test_a_silent_database_costs_a_read_the_query_timeout_then_the_pool_reconnects(database: str) -> None:
    url = get_settings().database_url
    proxy = TcpProxy(target_port=make_url(url).port or 5432)
    proxy.start()
    proxied = url.replace(":5432/", f":{proxy.port}/")
    assert proxied != url

    async def scenario() -> None:
        pool = _pool(proxied, query_timeout_s=0.3)
        assert await pool.fetch_one("SELECT 1", {}) == (1,)  # connected, warm
        proxy.black_hole()
        started = time.monotonic()
        with pytest.raises(QueryTimeout):
            await pool.fetch_one("SELECT 1", {})
        assert time.monotonic() - started < 1.0
        proxy.restore()
        assert await pool.fetch_one("SELECT 1", {}) == (1,), "the silent connection was dropped, not reused"
        await pool.close()

    try:
        asyncio.run(scenario())
    finally:
        proxy.cut()


def test_an_unreachable_database_fails_the_read_not_hangs_it() -> None:
    async def scenario() -> None:
        pool = _pool(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/eco2")
        with pytest.raises(psycopg.OperationalError):
            await pool.fetch_one("SELECT 1", {})
        await pool.close()

    asyncio.run(scenario())


def test_a_black_holed_redis_costs_the_timeout_five_times_then_nothing() -> None:
    proxy = TcpProxy(target_port=6379)
    proxy.start()

    async def scenario() -> list[float]:
        cache = FinishedJobCache(make_async_redis(f"redis://127.0.0.1:{proxy.port}/15"))
        job_id, user_id = uuid.uuid4(), uuid.uuid4()
        await cache.put(job_id, JobStatus.FAILED, user_id, b"{}")  # connected, warm
        proxy.black_hole()
        timings = []
        for _ in range(10):
            started = time.monotonic()
            await cache.put(job_id, JobStatus.FAILED, user_id, b"{}")
            timings.append(time.monotonic() - started)
        return timings

    try:
        timings = asyncio.run(scenario())
    finally:
        proxy.restore()
        proxy.cut()
    assert max(timings) < 0.3, timings  # one timeout at most
    assert sum(timings[REDIS_FAILURES_TO_OPEN:]) < 0.01, "once the circuit is open, Redis costs nothing"


def test_an_open_async_redis_circuit_refuses_at_once() -> None:
    async def scenario() -> None:
        client = make_async_redis(f"redis://127.0.0.1:{free_port()}/0")
        for _ in range(REDIS_FAILURES_TO_OPEN):
            with pytest.raises(redis.ConnectionError):
                await client.get("k")
        started = time.monotonic()
        with pytest.raises(redis.ConnectionError, match="circuit open"):
            await client.get("k")
        assert time.monotonic() - started < 0.01
        await client.aclose()

    asyncio.run(scenario())


@asynccontextmanager
async def _keep(app: FastAPI, seen: list[AsyncClients]) -> AsyncIterator[None]:
    async with open_async_clients(app, get_settings()) as clients:
        seen.append(clients)
        yield


def test_the_clients_live_on_the_app_while_it_runs_and_a_missing_lifespan_is_named() -> None:
    seen: list[AsyncClients] = []
    app = FastAPI(lifespan=lambda app: _keep(app, seen))

    @app.get("/pool")
    async def pool_size(clients: AsyncClientsDep) -> dict[str, bool]:
        return {"same": clients is seen[0]}

    with TestClient(app) as client:
        assert client.get("/pool").json() == {"same": True}
    assert not hasattr(app.state, "async_clients"), "closed and removed at shutdown"
    with pytest.raises(RuntimeError, match="lifespan"):
        TestClient(app).get("/pool")


@pytest.mark.parametrize(
    ("error", "retry_after", "detail"),
    [
        (PoolExhausted("all busy"), "1", "the service is busy; retry shortly"),
        (QueryTimeout("no answer"), "5", "the database is unavailable; retry later"),
        (
            psycopg.OperationalError("connection to server at 10.0.0.5 failed"),
            "5",
            "the database is unavailable; retry later",
        ),
    ],
    ids=["pool exhausted", "query timeout", "driver error"],
)
def test_the_async_pools_failures_are_503s_that_name_nothing_internal(
    error: Exception, retry_after: str, detail: str
) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/read")
    async def read() -> None:
        raise error

    response = TestClient(app).get("/read")
    assert response.status_code == 503 and response.headers["Retry-After"] == retry_after
    assert response.json() == {"detail": detail}
