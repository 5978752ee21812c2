"""Finished analyses never change: serve repeated reads (polling, history) from Redis.

Only final jobs (succeeded or failed; a dead one may still be re-driven) are cached, keyed by job and bound
to their owner. An entry is the owner's id followed by the response body exactly as the API sends it, so a
hit is returned without parsing. A poll reads its entry in the same Redis round trip as the token's
revocation check (`apps.core.dependencies.authenticate`); a failed write is only a warning: the database
answers the next read.
"""

from __future__ import annotations

import logging
import uuid

import redis

from apps.core.cache import GuardedAsyncRedis, RedisCircuitOpen
from apps.core.observability.metrics import CACHE_REQUESTS
from apps.waste.models import JobStatus

logger = logging.getLogger(__name__)

FINISHED_JOB_TTL_SECONDS = 3600
CACHE_NAME = "finished_job"
_OWNER_BYTES = len(str(uuid.UUID(int=0)).encode())


def finished_job_key(job_id: uuid.UUID) -> str:
    return f"eco2:analysis:{job_id}"


def cached_body(entry: bytes | None, user_id: uuid.UUID) -> bytes | None:
    """The cached response body when `entry` (the value read at `finished_job_key`) belongs to the user."""
    if entry is None:
        CACHE_REQUESTS.labels(CACHE_NAME, "miss").inc()
        return None
    owner, body = entry[:_OWNER_BYTES], entry[_OWNER_BYTES:]
    if not body.startswith(b"{"):
        logger.warning("discarding an unreadable finished-job cache entry")
        CACHE_REQUESTS.labels(CACHE_NAME, "error").inc()
        return None
    hit = owner == str(user_id).encode()
    CACHE_REQUESTS.labels(CACHE_NAME, "hit" if hit else "miss").inc()
    return body if hit else None


class FinishedJobCache:
    """Written by the poll on the event loop, with the app's async Redis client."""

    def __init__(self, client: GuardedAsyncRedis) -> None:
        self._client = client

    async def put(self, job_id: uuid.UUID, status: JobStatus, user_id: uuid.UUID, body: bytes) -> None:
        """Keep the response body of a final job for its owner; other jobs are not cached."""
        if not status.final:
            return
        try:
            await self._client.set(
                finished_job_key(job_id), str(user_id).encode() + body, ex=FINISHED_JOB_TTL_SECONDS
            )
        except RedisCircuitOpen:
            return
        except redis.RedisError as error:
            logger.warning("could not cache job %s: %s", job_id, error)
