from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header

from apps.core.cache import get_redis
from apps.core.storage import get_s3_client
from apps.waste.cache import FinishedJobCache

S3Dep = Annotated[Any, Depends(get_s3_client)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, description="repeat-safe submission key"),
]


def get_finished_job_cache() -> FinishedJobCache:
    return FinishedJobCache(get_redis())


FinishedJobCacheDep = Annotated[FinishedJobCache, Depends(get_finished_job_cache)]
