"""Database engine and sessions. PostgreSQL is the source of truth for uploads and analysis jobs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Annotated

from fastapi import Depends
from sqlalchemy import Connection, Engine
from sqlmodel import Session, create_engine

from apps.core.observability.db_pool import InstrumentedQueuePool
from apps.core.settings import get_settings


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    return create_engine(
        settings.database_url,
        # An unreachable server fails the request within seconds: a 503 with Retry-After (core/errors.py).
        connect_args={"connect_timeout": settings.database_connect_timeout_seconds},
        # As many connections as request threads (anyio's default limit is 40), and a short wait when they are
        # all busy: the caller gets a 503 to retry instead of a request hanging for half a minute.
        pool_size=20,
        max_overflow=20,
        pool_timeout=5,
        pool_pre_ping=True,
        pool_recycle=1800,
        poolclass=InstrumentedQueuePool,  # connections in use and waits as metrics
    )


@contextmanager
def autocommit(engine: Engine) -> Iterator[Connection]:
    """A pooled connection on which every statement commits on its own: one round trip for a one-statement
    read or write (no BEGIN, no COMMIT, nothing to roll back when it returns to the pool)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


def get_session() -> Iterator[Session]:
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


async def get_request_engine() -> Engine:
    """The engine, for hot paths that run Core statements on a connection of their own (an `async`
    dependency: no thread hop, unlike a session)."""
    return get_engine()


EngineDep = Annotated[Engine, Depends(get_request_engine)]
