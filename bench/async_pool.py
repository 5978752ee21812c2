"""A small bounded pool of psycopg `AsyncConnection`s in autocommit mode, for the async twin (bench/twins.py).

psycopg_pool is not installed; this is the least a fair async anchor needs: at most `size` connections,
opened on first need and reused, a checkout that waits at most `checkout_timeout_s`, and a connection that
failed mid-use closed rather than returned. One pool per event loop: create it inside the serving loop (the
app's lifespan) and close it there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from psycopg import AsyncConnection
from sqlalchemy.engine import make_url


class PoolTimeout(TimeoutError):
    """Every connection stayed checked out for the whole checkout timeout."""


def psycopg_conninfo(database_url: str) -> str:
    """A libpq URL from the SQLAlchemy URL of the settings (`postgresql+psycopg://…` → `postgresql://…`)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class AsyncConnectionPool:
    def __init__(
        self, database_url: str, size: int, checkout_timeout_s: float, connect_timeout_s: int
    ) -> None:
        self._conninfo = psycopg_conninfo(database_url)
        self._connect_timeout_s = connect_timeout_s
        self._checkout_timeout_s = checkout_timeout_s
        self._slots = asyncio.Semaphore(size)
        self._idle: list[AsyncConnection] = []

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        try:
            await asyncio.wait_for(self._slots.acquire(), self._checkout_timeout_s)
        except TimeoutError as error:
            raise PoolTimeout(f"no connection free within {self._checkout_timeout_s} s") from error
        try:
            connection = self._idle.pop() if self._idle else await self._connect()
            try:
                yield connection
            except BaseException:
                await connection.close()
                raise
            if connection.closed:
                return
            self._idle.append(connection)
        finally:
            self._slots.release()

    async def _connect(self) -> AsyncConnection:
        return await AsyncConnection.connect(
            self._conninfo, autocommit=True, connect_timeout=self._connect_timeout_s
        )

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()
