"""The scan flow: presigned upload slots, verified analysis requests, and publishing after commit."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
import sqlalchemy as sa
from kombu.exceptions import OperationalError
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from apps.core.async_db import AsyncConnectionPool
from apps.core.db import autocommit
from apps.core.images import (
    EXTENSION_BY_CONTENT_TYPE,
    HEADER_BYTES,
    IncompleteHeader,
    InvalidImage,
    check_image_header,
)
from apps.core.queue import publish_task
from apps.core.queue_table import ANALYSIS_TASK_BY_QUEUE, QueueName
from apps.core.settings import Settings
from apps.core.storage import (
    ObjectEmpty,
    ObjectMissing,
    PresignedUpload,
    delete_all_objects,
    delete_objects,
    presign_upload,
    read_object,
    read_object_start,
)
from apps.core.time import utcnow
from apps.waste import exceptions as errors
from apps.waste import metrics
from apps.waste.feedback.models import AnalysisFeedback, ScanFeatures
from apps.waste.jobs import JOBS, mark_published, mark_unpublished
from apps.waste.models import AnalysisJob, JobEvent, JobStatus, Upload, UploadStatus
from apps.waste.schemas import AnalysisCreate

logger = logging.getLogger(__name__)


# How long after its URL expires an upload may still be submitted for analysis.
UPLOAD_CLAIM_WINDOW = timedelta(minutes=15)
EXPIRED_UPLOADS_BATCH = 500


@dataclass(frozen=True)
class NewUpload:
    upload_id: uuid.UUID
    object_key: str
    max_bytes: int
    expires_at: datetime
    presigned: PresignedUpload


@dataclass(frozen=True)
class Submission:
    job_id: uuid.UUID
    status: JobStatus
    queue: QueueName
    created: bool


# One statement: count the user's reserved, unused, unexpired uploads and reserve one more only below the
# cap (concurrent reservations may overshoot by the few in flight; the rate limit bounds those). psycopg's
# placeholders: it runs on the async pool.
_RESERVE = """
    WITH pending AS (
        SELECT count(*) AS reserved, min(expires_at) AS first_expiry FROM uploads
        WHERE user_id = %(user_id)s AND status = %(pending)s AND expires_at > %(now)s
    ), reservation AS (
        INSERT INTO uploads (id, user_id, object_key, content_type, max_bytes, status, created_at, expires_at)
        SELECT %(id)s, %(user_id)s, %(object_key)s, %(content_type)s, %(max_bytes)s, %(pending)s, %(now)s,
               %(expires_at)s
        FROM pending WHERE reserved < %(pending_max)s
        RETURNING id
    )
    SELECT reserved, first_expiry, EXISTS (SELECT 1 FROM reservation) AS made FROM pending
"""


async def create_upload(
    pool: AsyncConnectionPool,
    s3: Any,
    settings: Settings,
    user_id: uuid.UUID,
    content_type: str,
    size_bytes: int | None,
) -> NewUpload:
    """Reserve an upload on the event loop: the presigned POST is signed in-process and the reservation is
    one statement on the async pool. (With instance-role credentials botocore fetches fresh ones from the
    instance metadata a few times a day, inside the signing call: a short blocking call on the loop.)"""
    if size_bytes is not None and size_bytes > settings.upload_max_bytes:
        raise errors.UploadTooLarge(
            f"the photo is {size_bytes} bytes; the limit is {settings.upload_max_bytes}"
        )
    upload_id, now = uuid.uuid4(), utcnow()
    key = f"scans/{user_id}/{upload_id}.{EXTENSION_BY_CONTENT_TYPE[content_type]}"
    presigned = presign_upload(
        s3, settings.s3_bucket, key, content_type, settings.upload_max_bytes, settings.upload_url_ttl_seconds
    )
    expires_at = now + timedelta(seconds=settings.upload_url_ttl_seconds) + UPLOAD_CLAIM_WINDOW
    values = {
        "id": upload_id,
        "user_id": user_id,
        "object_key": key,
        "content_type": content_type,
        "max_bytes": settings.upload_max_bytes,
        "pending": UploadStatus.PENDING.value,
        "now": now,
        "expires_at": expires_at,
        "pending_max": settings.pending_uploads_max,
    }
    try:
        row = await pool.fetch_one(_RESERVE, values)
    except psycopg.errors.ForeignKeyViolation:  # the token's user no longer exists
        raise errors.UnknownCaller("unknown user") from None
    assert row is not None  # `pending` is an aggregate: always one row
    reserved, first_expiry, made = row
    if not made:
        raise errors.TooManyPendingUploads(
            f"{reserved} uploads are reserved and unused; use one or wait until one expires",
            retry_after_seconds=int((first_expiry - now).total_seconds()) + 1,
        )
    metrics.UPLOADS_RESERVED.inc()
    return NewUpload(
        upload_id=upload_id,
        object_key=key,
        max_bytes=settings.upload_max_bytes,
        expires_at=expires_at,
        presigned=presigned,
    )


def delete_expired_uploads(session: Session, s3: Any, settings: Settings) -> int:
    """Delete a batch of expired, never-used upload reservations and their objects (objects first: a failed
    deletion keeps the row, so the next run retries). Returns how many were deleted."""
    # Never one a job refers to, whatever its status says (a job is the proof the upload was used).
    unused = ~select(AnalysisJob.id).where(col(AnalysisJob.upload_id) == col(Upload.id)).exists()
    expired = list(
        session.exec(
            select(Upload)
            .where(
                col(Upload.status) == UploadStatus.PENDING.value, col(Upload.expires_at) < utcnow(), unused
            )
            .order_by(col(Upload.expires_at))
            .limit(EXPIRED_UPLOADS_BATCH)
        )
    )
    session.commit()
    failed = set(delete_objects(s3, settings.s3_bucket, [upload.object_key for upload in expired]))
    done = [upload.id for upload in expired if upload.object_key not in failed]
    if failed:
        logger.warning("could not delete %d expired upload objects; retrying next run", len(failed))
    if done:
        session.execute(
            delete(Upload).where(
                col(Upload.id).in_(done), col(Upload.status) == UploadStatus.PENDING.value, unused
            )
        )
        session.commit()
    return len(done)


_UPLOADS = Upload.__table__  # type: ignore[attr-defined]
_READ_UPLOAD = sa.select(
    _UPLOADS.c.user_id,
    _UPLOADS.c.object_key,
    _UPLOADS.c.content_type,
    _UPLOADS.c.max_bytes,
    _UPLOADS.c.status,
    _UPLOADS.c.expires_at,
).where(_UPLOADS.c.id == sa.bindparam("upload_id"))
_JOB_BY_IDEMPOTENCY_KEY = sa.select(JOBS.c.id, JOBS.c.upload_id, JOBS.c.status, JOBS.c.queue).where(
    JOBS.c.user_id == sa.bindparam("user_id"), JOBS.c.idempotency_key == sa.bindparam("idempotency_key")
)
# One statement, so one round trip and atomic on its own: consume the upload if it is still pending, insert
# the job only then, and its first event. `published_at` is set with it because the publish follows the
# commit at once; a failed publish clears it (`publish_submitted`), and a process that dies in between leaves
# a job the sweeper re-publishes once `published_at` is older than ECO2_QUEUED_JOB_TIMEOUT_SECONDS: as soon
# as it would have taken a job never published (the sweeper also waits for `created_at` to be that old).
_SUBMIT = sa.text(
    """
    WITH consumed AS (
        UPDATE uploads SET status = :consumed, consumed_at = :now
        WHERE id = :upload_id AND status = :pending
        RETURNING id
    ), job AS (
        INSERT INTO analysis_jobs (id, user_id, upload_id, idempotency_key, hint, latitude, longitude, queue,
                                   status, attempts, created_at, published_at)
        SELECT :job_id, :user_id, id, :idempotency_key, :hint, :latitude, :longitude, :queue,
               :queued, 0, :now, :now
        FROM consumed
        RETURNING id
    )
    INSERT INTO analysis_job_events (job_id, status, created_at) SELECT id, :queued, :now FROM job
    """
)


@dataclass(frozen=True)
class PendingUpload:
    object_key: str
    content_type: str
    max_bytes: int


def _existing_submission(
    connection: sa.Connection, user_id: uuid.UUID, idempotency_key: str, request: AnalysisCreate
) -> Submission | None:
    row = connection.execute(
        _JOB_BY_IDEMPOTENCY_KEY, {"user_id": user_id, "idempotency_key": idempotency_key}
    ).first()
    if row is None:
        return None
    if row.upload_id != request.upload_id:
        raise errors.IdempotencyKeyReused("this Idempotency-Key was already used for a different upload")
    return Submission(job_id=row.id, status=JobStatus(row.status), queue=QueueName(row.queue), created=False)


def _pending_upload(engine: sa.Engine, user_id: uuid.UUID, upload_id: uuid.UUID) -> PendingUpload:
    with autocommit(engine) as connection:
        row = connection.execute(_READ_UPLOAD, {"upload_id": upload_id}).first()
    if row is None or row.user_id != user_id:
        raise errors.UploadNotFound("no such upload")
    if row.status != UploadStatus.PENDING:
        raise errors.UploadAlreadyUsed("this upload was already submitted for analysis")
    if row.expires_at < utcnow():
        raise errors.UploadExpired("this upload has expired; request a new upload URL")
    return PendingUpload(object_key=row.object_key, content_type=row.content_type, max_bytes=row.max_bytes)


def verify_upload(
    engine: sa.Engine, s3: Any, settings: Settings, user_id: uuid.UUID, upload_id: uuid.UUID
) -> None:
    """Refuse unless the upload is the caller's own, unused and unexpired, and its stored object is within
    the limits and starts with a header of the declared type under the pixel and decode-memory limits. No
    database connection is held during the storage read; the write that follows re-checks the upload's
    state with a compare-and-set. Decoding the pixels is the worker's part."""
    upload = _pending_upload(engine, user_id, upload_id)
    try:
        stored = read_object_start(s3, settings.s3_bucket, upload.object_key, HEADER_BYTES)
    except ObjectMissing as error:
        raise errors.UploadNotReceived("the photo has not been uploaded yet") from error
    except ObjectEmpty as error:
        raise errors.UploadRejected("the stored photo is empty") from error
    metrics.UPLOADS_RECEIVED.inc()
    if stored.size > upload.max_bytes:
        raise errors.UploadTooLarge(
            f"the stored photo is {stored.size} bytes; the limit is {upload.max_bytes}"
        )
    if stored.content_type != upload.content_type:
        raise errors.UploadRejected(
            f"the stored photo has content type {stored.content_type!r}, not {upload.content_type!r}"
        )
    limits = (settings.image_max_pixels, settings.image_decode_memory_bytes)
    try:
        try:
            check_image_header(stored.data, upload.content_type, *limits, complete=stored.complete)
        except IncompleteHeader:
            data = read_object(s3, settings.s3_bucket, upload.object_key)
            check_image_header(data, upload.content_type, *limits, complete=True)
    except InvalidImage as error:
        raise errors.UploadRejected(str(error)) from error
    except ObjectMissing as error:
        raise errors.UploadNotReceived("the photo has not been uploaded yet") from error


def analysis_queue(settings: Settings) -> QueueName:
    """OpenAI calls wait on the network and are rate limited: they get their own queue and workers."""
    if settings.analyzer == "openai" and settings.openai_api_key is not None:
        return QueueName.EXTERNAL_API
    return QueueName.HIGH_PRIORITY


def submit_analysis(
    engine: sa.Engine,
    s3: Any,
    settings: Settings,
    user_id: uuid.UUID,
    request: AnalysisCreate,
    idempotency_key: str | None,
) -> Submission:
    """Verify the upload, then insert the job and consume the upload in one statement. Does not publish."""
    if idempotency_key is not None:
        with autocommit(engine) as connection:
            existing = _existing_submission(connection, user_id, idempotency_key, request)
        if existing is not None:
            return existing
    verify_upload(engine, s3, settings, user_id, request.upload_id)
    job_id, queue = uuid.uuid4(), analysis_queue(settings)
    hint = request.hint.strip() if request.hint and request.hint.strip() else None
    values = {
        "job_id": job_id,
        "user_id": user_id,
        "upload_id": request.upload_id,
        "idempotency_key": idempotency_key,
        "hint": hint,
        "latitude": request.latitude,
        "longitude": request.longitude,
        "queue": queue.value,
        "now": utcnow(),
        "pending": UploadStatus.PENDING.value,
        "consumed": UploadStatus.CONSUMED.value,
        "queued": JobStatus.QUEUED.value,
    }
    with autocommit(engine) as connection:
        try:
            inserted = connection.execute(_SUBMIT, values).rowcount
        except IntegrityError:
            # A concurrent request with the same Idempotency-Key (or upload) won the race.
            existing = (
                _existing_submission(connection, user_id, idempotency_key, request)
                if idempotency_key is not None
                else None
            )
            if existing is not None:
                return existing
            raise errors.UploadAlreadyUsed("this upload was already submitted for analysis") from None
    if inserted != 1:
        raise errors.UploadAlreadyUsed("this upload was already submitted for analysis")
    metrics.SCANS_SUBMITTED.labels(metrics.queue_label(queue.value)).inc()
    return Submission(job_id=job_id, status=JobStatus.QUEUED, queue=queue, created=True)


def _enqueue(job_id: uuid.UUID, queue: QueueName) -> bool:
    """Publish by task name (with publisher confirms) so the API never imports the worker's code. False when
    the broker is unreachable: the job stays queued for the sweeper."""
    label = metrics.queue_label(queue.value)
    try:
        publish_task(ANALYSIS_TASK_BY_QUEUE[queue], [str(job_id)], queue)
    except OperationalError as error:
        logger.warning("broker unavailable; job %s stays queued for the sweeper: %s", job_id, error)
        metrics.PUBLISHES.labels(label, "broker_unavailable").inc()
        return False
    metrics.PUBLISHES.labels(label, "published").inc()
    return True


def publish_submitted(engine: sa.Engine, submission: Submission) -> bool:
    """Publish a job `submit_analysis` committed (its `published_at` already set); a failed publish clears
    `published_at`, so the job reads as never published."""
    if _enqueue(submission.job_id, submission.queue):
        return True
    mark_unpublished(engine, submission.job_id)
    return False


def publish(session: Session, job: AnalysisJob) -> bool:
    """Publish a committed job (the sweeper, re-drives) and record when."""
    if not _enqueue(job.id, QueueName(job.queue)):
        return False
    mark_published(session, job.id)
    return True


def get_job(session: Session, user_id: uuid.UUID, job_id: uuid.UUID) -> AnalysisJob:
    job = session.get(AnalysisJob, job_id)
    # End the read transaction now: the session is closed after the response by a single shared thread, and
    # holding the connection until then would drain the pool under load.
    session.commit()
    if job is None or job.user_id != user_id:
        raise errors.JobNotFound("no such analysis job")
    return job


def delete_user_scans(session: Session, s3: Any, bucket: str, user_id: uuid.UUID) -> int:
    """Account deletion: the user's photos, then their uploads, jobs with their events, feedback and kept
    features. Storage goes first, so a failure leaves the rows for the retry; running it again is harmless.
    Returns the photos deleted."""
    keys = list(session.exec(select(Upload.object_key).where(col(Upload.user_id) == user_id)).all())
    delete_all_objects(s3, bucket, keys)
    jobs_of_user = select(AnalysisJob.id).where(col(AnalysisJob.user_id) == user_id)
    for row_of_job in (JobEvent, AnalysisFeedback, ScanFeatures):
        session.execute(delete(row_of_job).where(col(row_of_job.job_id).in_(jobs_of_user)))
    session.execute(delete(AnalysisJob).where(col(AnalysisJob.user_id) == user_id))
    session.execute(delete(Upload).where(col(Upload.user_id) == user_id))
    session.commit()
    return len(keys)
