"""The fair anchors of the scan API benchmark: bare twin endpoints that do exactly the unavoidable I/O of
`GET /api/v1/waste/analyses/{id}` and `POST /api/v1/waste/analyses`, and nothing else. Bench only: never
mounted in the product.

GET  /twin/analyses/{job_id}: verify the bearer token, read one job row by primary key (sync, on FastAPI's
     thread pool, with the gateway's engine and Redis client).
GET  /twin/async/analyses/{job_id}: the same I/O as `async def` on the product's async clients (its
     `redis.asyncio` client for the revocation MGET, its pool of psycopg `AsyncConnection`s in autocommit for
     the SELECT): the cheapest code doing the poll's I/O, so the fair anchor of GET analyses.
POST /twin/analyses: verify the token, HEAD the object, read its first bytes, insert the job, publish a
     message with a publisher confirm.
Served exactly like the gateway (same uvicorn settings, same engine, S3 client and broker settings).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import text

from apps.core.access_tokens import (
    InvalidToken,
    Principal,
    is_revoked,
    key_ring,
    revocation_keys,
    revoked_by,
    verify_access_token,
)
from apps.core.async_clients import AsyncClients, open_async_clients
from apps.core.cache import get_redis
from apps.core.db import get_engine
from apps.core.queue import TASK_EXCHANGE, celery_app
from apps.core.queue_table import QueueName
from apps.core.settings import get_settings
from apps.core.storage import get_s3_client

HEAD_BYTES = 32
JOB_BY_ID = "SELECT id, user_id, status, created_at, finished_at FROM analysis_jobs WHERE id = %(job_id)s"


class TwinSubmission(BaseModel):
    upload_id: uuid.UUID


def _principal(authorization: str | None) -> Principal:
    if authorization is None or not authorization.startswith("Bearer "):
        raise HTTPException(401)
    settings = get_settings()
    try:
        return verify_access_token(
            authorization.removeprefix("Bearer "), key_ring(settings), settings.token_issuer
        )
    except InvalidToken as error:
        raise HTTPException(401) from error


def _user(authorization: str | None) -> uuid.UUID:
    principal = _principal(authorization)
    if is_revoked(get_redis(), principal):  # as the product's CurrentUser: one Redis read, no SQL
        raise HTTPException(401)
    return principal.id


@asynccontextmanager
async def _async_clients(app: FastAPI) -> AsyncIterator[None]:
    """The product's own async clients (apps/core/async_clients.py), made as the gateway makes them."""
    async with open_async_clients(app, get_settings()):
        yield


def create_twin_app() -> FastAPI:
    app = FastAPI(title="twins", lifespan=_async_clients)
    settings = get_settings()

    @app.get("/twin/async/analyses/{job_id}")
    async def read_job_async(
        job_id: uuid.UUID, request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        principal = _principal(authorization)
        clients: AsyncClients = request.app.state.async_clients
        if revoked_by(await clients.redis.mget(revocation_keys(principal))):
            raise HTTPException(401)
        row = await clients.pool.fetch_one(JOB_BY_ID, {"job_id": job_id})
        if row is None or row[1] != principal.id:
            raise HTTPException(404)
        return {"job_id": str(row[0]), "status": row[2], "created_at": row[3].isoformat()}

    @app.get("/twin/analyses/{job_id}")
    def read_job(job_id: uuid.UUID, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        user_id = _user(authorization)
        with get_engine().connect() as connection:
            row = connection.execute(
                text("SELECT id, user_id, status, created_at, finished_at FROM analysis_jobs WHERE id = :id"),
                {"id": job_id},
            ).first()
        if row is None or row.user_id != user_id:
            raise HTTPException(404)
        return {"job_id": str(row.id), "status": row.status, "created_at": row.created_at.isoformat()}

    @app.post("/twin/analyses", status_code=202)
    def submit(body: TwinSubmission, authorization: Annotated[str | None, Header()] = None) -> dict[str, str]:
        user_id = _user(authorization)
        s3 = get_s3_client()
        key = f"scans/{user_id}/{body.upload_id}.jpg"
        s3.head_object(Bucket=settings.s3_bucket, Key=key)
        s3.get_object(Bucket=settings.s3_bucket, Key=key, Range=f"bytes=0-{HEAD_BYTES - 1}")["Body"].read()
        job_id = uuid.uuid4()
        with get_engine().begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO analysis_jobs (id, user_id, upload_id, queue, status, attempts, created_at)"
                    " VALUES (:id, :user_id, :upload_id, :queue, 'queued', 0, now())"
                ),
                {"id": job_id, "user_id": user_id, "upload_id": body.upload_id, "queue": "high_priority"},
            )
        with celery_app.producer_or_acquire() as producer:
            producer.publish(
                json.dumps({"job_id": str(job_id)}),
                exchange=TASK_EXCHANGE.name,
                routing_key=QueueName.LOW_PRIORITY.value,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                retry=False,
            )
        return {"job_id": str(job_id)}

    return app
