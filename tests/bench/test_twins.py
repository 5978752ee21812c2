"""The async GET twin (bench/twins.py) does what the product's poll does, on its own small async pool."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from apps.core.access_tokens import revoke_user
from apps.core.cache import get_redis
from apps.core.settings import get_settings
from bench.async_pool import AsyncConnectionPool, PoolTimeout, psycopg_conninfo
from bench.twins import create_twin_app
from tests.support.identity import sign_in
from tests.waste.conftest import image_bytes, upload_photo

ANALYSES = "/api/v1/waste/analyses"


def test_the_async_twin_reads_its_owners_job_only_and_honours_revocation(api: httpx.Client) -> None:
    owner, stranger = sign_in(api), sign_in(api)
    upload_id = upload_photo(api, owner.headers, image_bytes())
    submitted = api.post(ANALYSES, json={"upload_id": upload_id}, headers=owner.headers)
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["job_id"]
    path = f"/twin/async/analyses/{job_id}"

    with TestClient(create_twin_app()) as twins:
        read = twins.get(path, headers=owner.headers)
        assert read.status_code == 200, read.text
        assert read.json()["job_id"] == job_id and read.json()["status"] == "queued"
        assert twins.get(path, headers=stranger.headers).status_code == 404
        assert twins.get(f"/twin/async/analyses/{uuid.uuid4()}", headers=owner.headers).status_code == 404
        assert twins.get(path).status_code == 401
        revoke_user(get_redis(), uuid.UUID(owner.user_id), get_settings())
        assert twins.get(path, headers=owner.headers).status_code == 401


def test_the_conninfo_drops_the_sqlalchemy_driver_name() -> None:
    assert psycopg_conninfo("postgresql+psycopg://app:secret@db:5432/eco2") == (
        "postgresql://app:secret@db:5432/eco2"
    )


def test_a_checkout_waits_at_most_the_timeout_when_every_connection_is_busy(database: str) -> None:
    async def scenario() -> None:
        pool = AsyncConnectionPool(database, size=1, checkout_timeout_s=0.2, connect_timeout_s=3)
        async with pool.connection():
            started = asyncio.get_running_loop().time()
            with pytest.raises(PoolTimeout):
                async with pool.connection():
                    pass
            assert asyncio.get_running_loop().time() - started < 1.0
        async with pool.connection() as connection:  # freed again: the slot came back
            assert await (await connection.execute("SELECT 1")).fetchone() == (1,)
        await pool.close()

    asyncio.run(scenario())


def test_a_connection_that_failed_in_use_is_closed_not_reused(database: str) -> None:
    async def scenario() -> None:
        pool = AsyncConnectionPool(database, size=1, checkout_timeout_s=1.0, connect_timeout_s=3)
        with pytest.raises(psycopg.errors.UndefinedTable):
            async with pool.connection() as failed:
                await failed.execute("SELECT * FROM no_such_table")
        assert failed.closed
        async with pool.connection() as connection:
            assert connection is not failed
            assert await (await connection.execute("SELECT 1")).fetchone() == (1,)
        async with pool.connection() as again:
            assert again is connection, "a healthy connection goes back to the pool"
        await pool.close()
        assert connection.closed

    asyncio.run(scenario())
