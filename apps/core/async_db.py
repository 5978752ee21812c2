"""PostgreSQL on the event loop: a small bounded pool of psycopg `AsyncConnection`s in autocommit mode, for
the hot reads that need no ORM (a poll's primary-key SELECT) and so no thread hop.

At most `size` connections, opened on first need and reused; a checkout waits at most `checkout_timeout_s`
(then `PoolExhausted`: a 503 "busy"); a statement that takes longer than `query_timeout_s` is abandoned
(`QueryTimeout`: a 503 "unavailable"), and a connection that failed or timed out mid-use is closed rather
than returned, so a restarted or black-holed server costs one failed request per connection, not a hang.
One pool per event loop: create it inside the serving loop (the app's lifespan) and close it there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection
from sqlalchemy.engine import make_url


class PoolExhausted(Exception):
    """Every connection stayed checked out for the whole checkout timeout."""


class QueryTimeout(Exception):
    """The database did not answer a statement within the query timeout."""


def psycopg_conninfo(database_url: str) -> str:
    """A libpq URL from the SQLAlchemy URL of the settings (`postgresql+psycopg://…` → `postgresql://…`)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class AsyncConnectionPool:
    def __init__(
        self,
        database_url: str,
        size: int,
        checkout_timeout_s: float,
        connect_timeout_s: int,
        query_timeout_s: float,
    ) -> None:
        self._conninfo = psycopg_conninfo(database_url)
        self._connect_timeout_s = connect_timeout_s
        self._checkout_timeout_s = checkout_timeout_s
        self._query_timeout_s = query_timeout_s
        self._slots = asyncio.Semaphore(size)
        self._idle: list[AsyncConnection] = []

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        try:
            await asyncio.wait_for(self._slots.acquire(), self._checkout_timeout_s)
        except TimeoutError as error:
            raise PoolExhausted(f"no connection free within {self._checkout_timeout_s} s") from error
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

    async def fetch_one(self, query: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row of one statement, on a pooled connection, within the query timeout."""
        async with self.connection() as connection:
            task = asyncio.current_task()
            assert task is not None
            expired = False

            def expire() -> None:
                nonlocal expired
                expired = True
                # Drop the connection, then stop waiting. Not psycopg's own cancellation: it asks the server
                # to cancel over a new connection and waits for that up to 10 s, also when nothing answers.
                connection.pgconn.finish()
                task.cancel()

            deadline = asyncio.get_running_loop().call_later(self._query_timeout_s, expire)
            try:
                cursor = await connection.execute(query, params)
                return await cursor.fetchone()
            except asyncio.CancelledError:
                if not expired:
                    raise
                task.uncancel()
                raise QueryTimeout(f"no answer within {self._query_timeout_s} s") from None
            finally:
                deadline.cancel()

    async def _connect(self) -> AsyncConnection:
        return await AsyncConnection.connect(
            self._conninfo, autocommit=True, connect_timeout=self._connect_timeout_s
        )

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()
