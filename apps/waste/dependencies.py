from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from apps.core.access_tokens import Principal
from apps.core.async_clients import get_async_clients
from apps.core.async_db import AsyncConnectionPool
from apps.core.dependencies import SettingsDep, authenticate_async, bearer_scheme
from apps.core.request_rate import limit_request
from apps.core.settings import get_settings
from apps.core.storage import get_s3_client
from apps.users.dependencies import CurrentUser
from apps.waste.cache import FinishedJobCache, cached_body, finished_job_key


async def get_request_s3_client() -> Any:
    """The process's S3 client (an `async` dependency: no thread hop for a cached object)."""
    return get_s3_client()


S3Dep = Annotated[Any, Depends(get_request_s3_client)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, description="repeat-safe submission key"),
]


@dataclass(frozen=True)
class Poll:
    """A poll's caller and what the poll needs next, resolved in one dependency (one Redis round trip)."""

    job_id: uuid.UUID
    user: Principal
    cached_body: bytes | None  # the finished job's response, when Redis holds it for this user
    pool: AsyncConnectionPool
    cache: FinishedJobCache


async def read_poll(job_id: uuid.UUID, request: Request) -> Poll:
    """The caller of a poll, and the job's cached answer read in the revocation check's round trip.

    Polls are the most frequent request, and each sub-dependency costs FastAPI a solve (about a tenth of a
    poll's CPU in all), so this one calls the bearer scheme and the clients' getter itself; the route
    declares the bearer security in its OpenAPI (`BEARER_SECURITY`) and takes the job id from here (a path
    parameter is parsed once per dependant that declares it)."""
    clients = await get_async_clients(request)
    credentials = await bearer_scheme(request)
    user, (entry,) = await authenticate_async(
        request, get_settings(), clients.redis, credentials, [finished_job_key(job_id)]
    )
    return Poll(
        job_id=job_id,
        user=user,
        cached_body=cached_body(entry, user.id),
        pool=clients.pool,
        cache=FinishedJobCache(clients.redis),
    )


PollDep = Annotated[Poll, Depends(read_poll)]


def limit_uploads(request: Request, user: CurrentUser, settings: SettingsDep) -> None:
    limit_request(request, settings, "uploads", settings.upload_rate_per_minute, str(user.id))


def limit_analyses(request: Request, user: CurrentUser, settings: SettingsDep) -> None:
    limit_request(request, settings, "analyses", settings.analysis_rate_per_minute, str(user.id))
