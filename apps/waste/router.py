from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic_core import to_json
from sse_starlette import EventSourceResponse

from apps.core.async_clients import AsyncClientsDep
from apps.core.db import EngineDep
from apps.core.dependencies import BEARER_SECURITY, SettingsDep
from apps.core.errors import error_responses
from apps.core.observability.http import quiet_request_log
from apps.core.observability.logging import bind_job
from apps.core.storage import S3Dep
from apps.users.dependencies import CurrentUser
from apps.waste import jobs, metrics, service
from apps.waste.dependencies import (
    IdempotencyKey,
    PollDep,
    PollRoute,
    limit_analyses,
    limit_uploads,
)
from apps.waste.exceptions import ScanError
from apps.waste.feedback.router import router as feedback_router
from apps.waste.schemas import (
    AnalysisAccepted,
    AnalysisCreate,
    AnalysisRead,
    UploadCreate,
    UploadCreated,
)

router = APIRouter(tags=["waste"])
router.include_router(feedback_router)

STREAM_POLL_SECONDS = 0.25
STREAM_TIMEOUT_SECONDS = 120.0


def _json(body: bytes | dict[str, Any], status_code: int = status.HTTP_200_OK, **headers: str) -> Response:
    """A JSON response built once (bytes as they are, a dict serialised by pydantic-core): FastAPI does not
    validate a returned Response against the documented model again."""
    content = body if isinstance(body, bytes) else to_json(body)
    return Response(content=content, status_code=status_code, headers=headers, media_type="application/json")


@router.post(
    "/uploads",
    response_model=UploadCreated,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(limit_uploads)],
    responses=error_responses(413, 429),
)
async def create_upload(
    body: UploadCreate, user: CurrentUser, clients: AsyncClientsDep, s3: S3Dep, settings: SettingsDep
) -> Response:
    """Reserve a server-chosen key and return a presigned POST (size and content type bound, short TTL)."""
    new = await service.create_upload(clients.pool, s3, settings, user.id, body.content_type, body.size_bytes)
    created = {
        "upload_id": new.upload_id,
        "object_key": new.object_key,
        "upload_url": new.presigned.url,
        "upload_fields": new.presigned.fields,
        "max_bytes": new.max_bytes,
        "expires_at": new.expires_at,
    }
    return _json(created, status.HTTP_201_CREATED)


def _poll_url(request: Request, job_id: uuid.UUID) -> str:
    return str(request.url_for("read_analysis", job_id=job_id).path)


@router.post(
    "/analyses",
    response_model=AnalysisAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(limit_analyses)],
    responses=error_responses(404, 409, 410, 413, 429),
)
def create_analysis(
    body: AnalysisCreate,
    request: Request,
    user: CurrentUser,
    engine: EngineDep,
    s3: S3Dep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Verify the uploaded photo, record the job, then publish it. Repeats with the same Idempotency-Key
    return the same job."""
    try:
        submission = service.submit_analysis(engine, s3, settings, user.id, body, idempotency_key)
    except ScanError as error:
        metrics.SUBMISSIONS_REJECTED.labels(metrics.rejection_reason(error)).inc()
        raise
    bind_job(submission.job_id)
    if submission.created:
        service.publish_submitted(engine, submission)
    poll_url = _poll_url(request, submission.job_id)
    accepted = {"job_id": submission.job_id, "status": submission.status, "poll_url": poll_url}
    return _json(accepted, status.HTTP_202_ACCEPTED, Location=poll_url)


@quiet_request_log  # polled every few hundred ms while a scan runs; errors are still logged
async def read_analysis(poll: PollDep) -> Response:
    """A poll, on the event loop: one Redis round trip (the token's revocation and the finished-job cache),
    then, unless the job was cached, one primary-key read."""
    if poll.cached_body is not None:
        return _json(poll.cached_body)
    job = await jobs.read_job(poll.pool, poll.user.id, poll.job_id)
    await poll.cache.put(poll.job_id, job.status, poll.user.id, job.body)
    return _json(job.body)


router.add_api_route(
    "/analyses/{job_id}",
    read_analysis,
    methods=["GET"],
    response_model=AnalysisRead,
    name="read_analysis",
    responses=error_responses(404),
    openapi_extra=BEARER_SECURITY,
    route_class_override=PollRoute,
)


@router.get("/analyses/{job_id}/events", name="stream_analysis", responses=error_responses(404))
async def stream_analysis(
    job_id: uuid.UUID, user: CurrentUser, clients: AsyncClientsDep
) -> EventSourceResponse:
    """Server-sent events: one `status` event per state change, the last one carrying the result."""
    pool = clients.pool
    first = await jobs.read_job(pool, user.id, job_id)  # 404 before the stream starts

    async def events() -> AsyncIterator[dict[str, str]]:
        job, last = first, None
        deadline = time.monotonic() + STREAM_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if job.status != last:
                last = job.status
                yield {"event": "status", "data": job.body.decode()}
            if job.status.terminal:
                return
            await asyncio.sleep(STREAM_POLL_SECONDS)
            job = await jobs.read_job(pool, user.id, job_id)
        yield {"event": "timeout", "data": "{}"}

    return EventSourceResponse(events())
