from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials

from apps.auth.tokens import InvalidToken, read_access_token
from apps.core.cache import get_redis
from apps.core.dependencies import SettingsDep
from apps.core.request_rate import limit_request
from apps.core.storage import get_s3_client
from apps.users.dependencies import bearer_scheme
from apps.waste.cache import FinishedJobCache

S3Dep = Annotated[Any, Depends(get_s3_client)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, description="repeat-safe submission key"),
]


async def get_finished_job_cache() -> FinishedJobCache:
    return FinishedJobCache(get_redis())


FinishedJobCacheDep = Annotated[FinishedJobCache, Depends(get_finished_job_cache)]


async def get_caller_id(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> uuid.UUID:
    """The verified token's user id, without a database lookup: for reads of rows that carry their owner,
    where the ownership check on the row is the authorization (a deleted user's jobs go with them)."""
    try:
        if credentials is None:
            raise InvalidToken("missing bearer token")
        return read_access_token(credentials.credentials, settings)
    except InvalidToken as error:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail=str(error), headers={"WWW-Authenticate": "Bearer"}
        ) from error


CallerId = Annotated[uuid.UUID, Depends(get_caller_id)]


def limit_uploads(request: Request, user_id: CallerId, settings: SettingsDep) -> None:
    limit_request(request, settings, "uploads", settings.upload_rate_per_minute, str(user_id))


def limit_analyses(request: Request, user_id: CallerId, settings: SettingsDep) -> None:
    limit_request(request, settings, "analyses", settings.analysis_rate_per_minute, str(user_id))
