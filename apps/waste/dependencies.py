from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials

from apps.core.access_tokens import Principal
from apps.core.async_clients import AsyncRedisDep
from apps.core.cache import GuardedAsyncRedis
from apps.core.dependencies import SettingsDep, authenticate_async
from apps.core.request_rate import limit_request
from apps.core.settings import Settings, get_settings
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


async def get_finished_job_cache(redis_client: AsyncRedisDep) -> FinishedJobCache:
    return FinishedJobCache(redis_client)


FinishedJobCacheDep = Annotated[FinishedJobCache, Depends(get_finished_job_cache)]


@dataclass(frozen=True)
class Poll:
    user: Principal
    cached_body: bytes | None  # the finished job's response, when Redis holds it for this user


@dataclass(frozen=True)
class PollReader:
    """What a poll needs, on the event loop: the settings and the app's async Redis client."""

    settings: Settings
    redis: GuardedAsyncRedis

    async def read(
        self, request: Request, credentials: HTTPAuthorizationCredentials | None, job_id: uuid.UUID
    ) -> Poll:
        """The caller of a poll, and the job's cached answer read in the same Redis round trip."""
        user, (entry,) = await authenticate_async(
            request, self.settings, self.redis, credentials, [finished_job_key(job_id)]
        )
        return Poll(user=user, cached_body=cached_body(entry, user.id))


async def get_poll_reader(redis_client: AsyncRedisDep) -> PollReader:
    return PollReader(settings=get_settings(), redis=redis_client)


PollReaderDep = Annotated[PollReader, Depends(get_poll_reader)]


def limit_uploads(request: Request, user: CurrentUser, settings: SettingsDep) -> None:
    limit_request(request, settings, "uploads", settings.upload_rate_per_minute, str(user.id))


def limit_analyses(request: Request, user: CurrentUser, settings: SettingsDep) -> None:
    limit_request(request, settings, "analyses", settings.analysis_rate_per_minute, str(user.id))
