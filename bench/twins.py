"""The fair anchors of the scan API benchmark: bare twin endpoints that do exactly the unavoidable I/O of
`GET /api/v1/waste/analyses/{id}` and `POST /api/v1/waste/analyses`, and nothing else. Bench only: never
mounted in the product.

GET  /twin/analyses/{job_id}: verify the bearer token, read one job row by primary key.
POST /twin/analyses: verify the token, HEAD the object, read its first bytes, insert the job, publish a
     message with a publisher confirm.
Served exactly like the gateway (same uvicorn settings, same engine, S3 client and broker settings).
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel
from sqlalchemy import text

from apps.core.access_tokens import InvalidToken, is_revoked, key_ring, verify_access_token
from apps.core.cache import get_redis
from apps.core.db import get_engine
from apps.core.queue import TASK_EXCHANGE, celery_app
from apps.core.queue_table import QueueName
from apps.core.settings import get_settings
from apps.core.storage import get_s3_client

HEAD_BYTES = 32


class TwinSubmission(BaseModel):
    upload_id: uuid.UUID


def _user(authorization: str | None) -> uuid.UUID:
    if authorization is None or not authorization.startswith("Bearer "):
        raise HTTPException(401)
    settings = get_settings()
    try:
        principal = verify_access_token(
            authorization.removeprefix("Bearer "), key_ring(settings), settings.token_issuer
        )
    except InvalidToken as error:
        raise HTTPException(401) from error
    if is_revoked(get_redis(), principal):  # as the product's CurrentUser: one Redis read, no SQL
        raise HTTPException(401)
    return principal.id


def create_twin_app() -> FastAPI:
    app = FastAPI(title="twins")
    settings = get_settings()

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
