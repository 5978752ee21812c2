"""Finished analyses never change: serve repeated reads (polling, history) from Redis.

Only final jobs (succeeded or failed; a dead one may still be re-driven) are cached, keyed by job and bound
to their owner. Any Redis failure is a miss: the database answers and the request never fails because of
the cache.
"""

from __future__ import annotations

import logging
import uuid

import redis
from pydantic import BaseModel, ValidationError

from apps.core.cache import RedisCircuitOpen
from apps.core.observability.metrics import CACHE_REQUESTS
from apps.waste.models import JobStatus
from apps.waste.schemas import AnalysisRead

logger = logging.getLogger(__name__)

FINISHED_JOB_TTL_SECONDS = 3600
CACHE_NAME = "finished_job"


class _CachedJob(BaseModel):
    user_id: uuid.UUID
    job: AnalysisRead


def _key(job_id: uuid.UUID) -> str:
    return f"eco2:analysis:{job_id}"


class FinishedJobCache:
    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def get(self, job_id: uuid.UUID, user_id: uuid.UUID) -> AnalysisRead | None:
        try:
            raw = self._client.get(_key(job_id))
        except RedisCircuitOpen:
            return None
        except redis.RedisError as error:
            logger.warning("analysis cache unavailable, reading the database: %s", error)
            CACHE_REQUESTS.labels(CACHE_NAME, "error").inc()
            return None
        if raw is None:
            CACHE_REQUESTS.labels(CACHE_NAME, "miss").inc()
            return None
        try:
            cached = _CachedJob.model_validate_json(raw)  # type: ignore[arg-type]
        except ValidationError:
            logger.warning("discarding an unreadable cache entry for job %s", job_id)
            CACHE_REQUESTS.labels(CACHE_NAME, "error").inc()
            return None
        hit = cached.user_id == user_id
        CACHE_REQUESTS.labels(CACHE_NAME, "hit" if hit else "miss").inc()
        return cached.job if hit else None

    def put(self, job: AnalysisRead, user_id: uuid.UUID) -> None:
        if not JobStatus(job.status).final:
            return
        entry = _CachedJob(user_id=user_id, job=job).model_dump_json()
        try:
            self._client.set(_key(job.job_id), entry, ex=FINISHED_JOB_TTL_SECONDS)
        except RedisCircuitOpen:
            return
        except redis.RedisError as error:
            logger.warning("could not cache job %s: %s", job.job_id, error)
