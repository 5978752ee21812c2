"""The scan flow: presigned upload slots, verified analysis requests, and publishing after commit."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from kombu.exceptions import OperationalError
from pydantic_core import to_json
from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from apps.core.errors import ServiceUnavailable
from apps.core.images import (
    EXTENSION_BY_CONTENT_TYPE,
    DecoderBusy,
    InvalidImage,
    process_decode_budget,
    verify_image,
)
from apps.core.queue import publish_task
from apps.core.queue_table import ANALYSIS_TASK_BY_QUEUE, QueueName
from apps.core.settings import Settings
from apps.core.storage import (
    ObjectMissing,
    PresignedUpload,
    delete_all_objects,
    delete_objects,
    head_object,
    presign_upload,
    read_object,
)
from apps.core.time import utcnow
from apps.waste import exceptions as errors
from apps.waste import metrics
from apps.waste.feedback.models import AnalysisFeedback, ScanFeatures
from apps.waste.jobs import mark_published
from apps.waste.models import AnalysisJob, JobEvent, JobStatus, Upload, UploadStatus
from apps.waste.schemas import AnalysisCreate

logger = logging.getLogger(__name__)


# How long after its URL expires an upload may still be submitted for analysis.
UPLOAD_CLAIM_WINDOW = timedelta(minutes=15)
EXPIRED_UPLOADS_BATCH = 500
DECODER_BUSY_RETRY_AFTER_SECONDS = 2


@dataclass(frozen=True)
class NewUpload:
    upload: Upload
    presigned: PresignedUpload


@dataclass(frozen=True)
class Submission:
    job: AnalysisJob
    created: bool


def create_upload(
    session: Session,
    s3: Any,
    settings: Settings,
    user_id: uuid.UUID,
    content_type: str,
    size_bytes: int | None,
) -> NewUpload:
    if size_bytes is not None and size_bytes > settings.upload_max_bytes:
        raise errors.UploadTooLarge(
            f"the photo is {size_bytes} bytes; the limit is {settings.upload_max_bytes}"
        )
    _check_pending_uploads(session, settings, user_id)
    upload_id = uuid.uuid4()
    key = f"scans/{user_id}/{upload_id}.{EXTENSION_BY_CONTENT_TYPE[content_type]}"
    presigned = presign_upload(
        s3, settings.s3_bucket, key, content_type, settings.upload_max_bytes, settings.upload_url_ttl_seconds
    )
    upload = Upload(
        id=upload_id,
        user_id=user_id,
        object_key=key,
        content_type=content_type,
        max_bytes=settings.upload_max_bytes,
        expires_at=utcnow() + timedelta(seconds=settings.upload_url_ttl_seconds) + UPLOAD_CLAIM_WINDOW,
    )
    session.add(upload)
    try:
        session.commit()
    except IntegrityError:  # the token's user no longer exists (uploads.user_id references users)
        session.rollback()
        raise errors.UnknownCaller("unknown user") from None
    metrics.UPLOADS_RESERVED.inc()
    return NewUpload(upload=upload, presigned=presigned)


def _check_pending_uploads(session: Session, settings: Settings, user_id: uuid.UUID) -> None:
    """At most `pending_uploads_max` reserved, unused, unexpired uploads per user (concurrent reservations
    may overshoot by the few in flight; the rate limit bounds those)."""
    now = utcnow()
    pending, first_expiry = session.execute(
        select(func.count(), func.min(col(Upload.expires_at))).where(
            col(Upload.user_id) == user_id,
            col(Upload.status) == UploadStatus.PENDING.value,
            col(Upload.expires_at) > now,
        )
    ).one()
    if pending >= settings.pending_uploads_max:
        session.rollback()
        raise errors.TooManyPendingUploads(
            f"{pending} uploads are reserved and unused; use one or wait until one expires",
            retry_after_seconds=int((first_expiry - now).total_seconds()) + 1,
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


def _existing_submission(
    session: Session, user_id: uuid.UUID, idempotency_key: str, request: AnalysisCreate
) -> Submission | None:
    job = session.exec(
        select(AnalysisJob).where(
            col(AnalysisJob.user_id) == user_id, col(AnalysisJob.idempotency_key) == idempotency_key
        )
    ).first()
    if job is None:
        return None
    if job.upload_id != request.upload_id:
        raise errors.IdempotencyKeyReused("this Idempotency-Key was already used for a different upload")
    return Submission(job=job, created=False)


def verify_upload(
    session: Session, s3: Any, settings: Settings, user_id: uuid.UUID, upload_id: uuid.UUID
) -> Upload:
    """The caller's own, unused, unexpired upload whose stored object is a real image within the limits."""
    upload = session.get(Upload, upload_id)
    if upload is None or upload.user_id != user_id:
        raise errors.UploadNotFound("no such upload")
    if upload.status != UploadStatus.PENDING:
        raise errors.UploadAlreadyUsed("this upload was already submitted for analysis")
    if upload.expires_at < utcnow():
        raise errors.UploadExpired("this upload has expired; request a new upload URL")
    # Storage reads and decoding take a while: hold no database connection meanwhile. The write that follows
    # re-checks the upload's state with a compare-and-set.
    session.commit()
    try:
        stored = head_object(s3, settings.s3_bucket, upload.object_key)
    except ObjectMissing as error:
        raise errors.UploadNotReceived("the photo has not been uploaded yet") from error
    metrics.UPLOADS_RECEIVED.inc()
    if stored.size > upload.max_bytes:
        raise errors.UploadTooLarge(
            f"the stored photo is {stored.size} bytes; the limit is {upload.max_bytes}"
        )
    if stored.content_type != upload.content_type:
        raise errors.UploadRejected(
            f"the stored photo has content type {stored.content_type!r}, not {upload.content_type!r}"
        )
    data = read_object(s3, settings.s3_bucket, upload.object_key)
    budget = process_decode_budget(settings.image_decode_memory_bytes)
    try:
        verify_image(
            data, upload.content_type, settings.image_max_pixels, budget, settings.image_decode_wait_seconds
        )
    except InvalidImage as error:
        raise errors.UploadRejected(str(error)) from error
    except DecoderBusy as error:
        raise ServiceUnavailable(str(error), DECODER_BUSY_RETRY_AFTER_SECONDS) from error
    return upload


def analysis_queue(settings: Settings) -> QueueName:
    """OpenAI calls wait on the network and are rate limited: they get their own queue and workers."""
    if settings.analyzer == "openai" and settings.openai_api_key is not None:
        return QueueName.EXTERNAL_API
    return QueueName.HIGH_PRIORITY


def submit_analysis(
    session: Session,
    s3: Any,
    settings: Settings,
    user_id: uuid.UUID,
    request: AnalysisCreate,
    idempotency_key: str | None,
) -> Submission:
    """Verify the upload, then insert the job and consume the upload in one transaction. Does not publish."""
    if idempotency_key is not None:
        existing = _existing_submission(session, user_id, idempotency_key, request)
        if existing is not None:
            return existing
    upload = verify_upload(session, s3, settings, user_id, request.upload_id)
    job = AnalysisJob(
        user_id=user_id,
        upload_id=upload.id,
        idempotency_key=idempotency_key,
        hint=request.hint.strip() if request.hint and request.hint.strip() else None,
        latitude=request.latitude,
        longitude=request.longitude,
        queue=analysis_queue(settings).value,
    )
    consumed = session.execute(
        update(Upload)
        .where(col(Upload.id) == upload.id, col(Upload.status) == UploadStatus.PENDING.value)
        .values(status=UploadStatus.CONSUMED.value, consumed_at=utcnow())
    )
    if consumed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise errors.UploadAlreadyUsed("this upload was already submitted for analysis")
    session.add(job)
    session.add(JobEvent(job_id=job.id, status=JobStatus.QUEUED))
    try:
        session.commit()
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key (or upload) won the race.
        session.rollback()
        if idempotency_key is not None:
            existing = _existing_submission(session, user_id, idempotency_key, request)
            if existing is not None:
                return existing
        raise errors.UploadAlreadyUsed("this upload was already submitted for analysis") from None
    metrics.SCANS_SUBMITTED.labels(metrics.queue_label(job.queue)).inc()
    return Submission(job=job, created=True)


def publish(session: Session, job: AnalysisJob) -> bool:
    """Publish a committed job. If the broker is unreachable the job stays queued and the sweeper retries."""
    queue = metrics.queue_label(job.queue)
    try:
        enqueue_analysis(job.id, QueueName(job.queue))
    except OperationalError as error:
        logger.warning("broker unavailable; job %s stays queued for the sweeper: %s", job.id, error)
        metrics.PUBLISHES.labels(queue, "broker_unavailable").inc()
        return False
    metrics.PUBLISHES.labels(queue, "published").inc()
    mark_published(session, job.id)
    return True


def enqueue_analysis(job_id: uuid.UUID, queue: QueueName) -> None:
    """Publish by task name (with publisher confirms) so the API never imports the worker's code."""
    publish_task(ANALYSIS_TASK_BY_QUEUE[queue], [str(job_id)], queue)


_JOBS = AnalysisJob.__table__  # type: ignore[attr-defined]
_READ_JOB = sa.select(
    _JOBS.c.user_id, _JOBS.c.status, _JOBS.c.created_at, _JOBS.c.finished_at, _JOBS.c.result, _JOBS.c.error
).where(_JOBS.c.id == sa.bindparam("job_id"))


@dataclass(frozen=True)
class JobResponse:
    status: JobStatus
    body: bytes  # the AnalysisRead document, as JSON


def read_job(engine: sa.Engine, user_id: uuid.UUID, job_id: uuid.UUID) -> JobResponse:
    """A poll's read: one Core SELECT by primary key, serialised once. The stored result is the worker's
    `AnalysisResult.model_dump(mode="json")`, so it is sent as it is instead of being validated again."""
    with engine.connect() as connection:
        row = connection.execute(_READ_JOB, {"job_id": job_id}).first()
    if row is None or row.user_id != user_id:
        raise errors.JobNotFound("no such analysis job")
    document = {
        "job_id": job_id,
        "status": row.status,
        "created_at": row.created_at,
        "finished_at": row.finished_at,
        "result": row.result,
        "error": row.error,
    }
    return JobResponse(status=JobStatus(row.status), body=to_json(document))


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
