"""The clients of the `async` hot paths: a pool of async PostgreSQL connections and an async Redis client.

They belong to one event loop, so the app makes them in its lifespan (`open_async_clients`) and closes them
at shutdown; endpoints get them through `AsyncClientsDep` (no thread hop). Both fail fast
as their blocking twins do (apps/core/db.py, apps/core/cache.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from apps.core.async_db import AsyncConnectionPool
from apps.core.cache import GuardedAsyncRedis, make_async_redis
from apps.core.rate_limit import RequestLimiter
from apps.core.settings import Settings

# As the blocking engine (apps/core/db.py): as many connections as it keeps, the same checkout wait.
ASYNC_POOL_SIZE = 20
ASYNC_CHECKOUT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class AsyncClients:
    pool: AsyncConnectionPool
    redis: GuardedAsyncRedis
    limiter: RequestLimiter  # the request limits, on `redis`

    @classmethod
    def from_settings(cls, settings: Settings) -> AsyncClients:
        pool = AsyncConnectionPool(
            settings.database_url,
            size=ASYNC_POOL_SIZE,
            checkout_timeout_s=ASYNC_CHECKOUT_TIMEOUT_SECONDS,
            connect_timeout_s=settings.database_connect_timeout_seconds,
            query_timeout_s=settings.database_query_timeout_seconds,
        )
        redis = make_async_redis(settings.redis_url)
        return cls(pool=pool, redis=redis, limiter=RequestLimiter(redis))

    async def aclose(self) -> None:
        await self.pool.close()
        await self.redis.aclose()


@asynccontextmanager
async def open_async_clients(app: FastAPI, settings: Settings) -> AsyncIterator[AsyncClients]:
    """Make the clients on the serving loop, keep them on `app.state` while the app runs, then close them."""
    clients = AsyncClients.from_settings(settings)
    app.state.async_clients = clients
    try:
        yield clients
    finally:
        del app.state.async_clients
        await clients.aclose()


async def get_async_clients(request: Request) -> AsyncClients:
    clients: AsyncClients | None = getattr(request.app.state, "async_clients", None)
    if clients is None:
        raise RuntimeError(
            "the async clients are made in the app's lifespan: serve it with lifespan on"
            " (in tests, use TestClient as a context manager)"
        )
    return clients


AsyncClientsDep = Annotated[AsyncClients, Depends(get_async_clients)]


async def get_async_redis(request: Request) -> GuardedAsyncRedis:
    """The app's async Redis client: what every request's revocation check reads through."""
    return (await get_async_clients(request)).redis


AsyncRedisDep = Annotated[GuardedAsyncRedis, Depends(get_async_redis)]
