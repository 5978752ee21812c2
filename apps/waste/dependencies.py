from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request

from apps.core.cache import get_redis
from apps.core.dependencies import SettingsDep
from apps.core.request_rate import limit_request
from apps.core.storage import get_s3_client
from apps.users.dependencies import CurrentUser
from apps.waste.cache import FinishedJobCache

S3Dep = Annotated[Any, Depends(get_s3_client)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, description="repeat-safe submission key"),
]


async def get_finished_job_cache() -> FinishedJobCache:
    return FinishedJobCache(get_redis())


FinishedJobCacheDep = Annotated[FinishedJobCache, Depends(get_finished_job_cache)]


def limit_uploads(request: Request, user: CurrentUser, settings: SettingsDep) -> None:
    limit_request(request, settings, "uploads", settings.upload_rate_per_minute, str(user.id))


def limit_analyses(request: Request, user: CurrentUser, settings: SettingsDep) -> None:
    limit_request(request, settings, "analyses", settings.analysis_rate_per_minute, str(user.id))
