"""Celery tasks of the scan flow. PostgreSQL holds the job state; a message only says "look at job X"."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta
from functools import lru_cache

from celery import Task
from sqlmodel import Session

from apps.core.db import get_engine
from apps.core.images import InvalidImage
from apps.core.observability.logging import bind
from apps.core.queue import celery_app
from apps.core.settings import get_settings
from apps.core.storage import ObjectMissing, get_s3_client
from apps.waste import jobs, metrics
from apps.waste.analysis.coach import compose_answer
from apps.waste.analysis.errors import AnalyzerError, retry_delay
from apps.waste.analysis.llm_coach import LLMCoach
from apps.waste.analysis.metrics import analyzer_label
from apps.waste.analysis.openai_vision import OpenAIVisionAnalyzer
from apps.waste.analysis.types import Analyzer
from apps.waste.feedback.features import record_scan_features
from apps.waste.models import AnalysisJob, Upload
from apps.waste.pipeline import Coach, FallbackAnalyzer, answer_for, classify, embedded_analyzer, load_image
from apps.waste.service import delete_expired_uploads, publish

logger = logging.getLogger(__name__)

EXTERNAL_MAX_RETRIES = 3


def run_analysis(
    job_id: uuid.UUID, analyzer: Analyzer, coach: Coach = compose_answer, with_url: bool = False
) -> None:
    """Claim the job, analyse its photo and store the answer; a lost race leaves the first result intact.
    Its log lines carry the job id, and only its own: the binding ends with the call, so a caller's later
    lines (another task in the same process, a test) do not inherit it."""
    settings = get_settings()
    with bind(job_id=str(job_id)), Session(get_engine(), expire_on_commit=False) as session:
        job = jobs.claim(session, job_id)
        if job is None:
            logger.info("job %s is finished or unknown; nothing to do", job_id)
            return
        claimed = time.perf_counter()
        queue = metrics.queue_label(job.queue)
        if job.attempts == 1 and job.started_at is not None:
            metrics.QUEUE_WAIT.labels(queue).observe((job.started_at - job.created_at).total_seconds())
        upload = session.get(Upload, job.upload_id)
        assert upload is not None, "uploads are never deleted while a job refers to them"
        try:
            image = load_image(get_s3_client(), settings, upload, with_url)
        except (ObjectMissing, InvalidImage) as error:
            reason = (
                "the photo is no longer in storage"
                if isinstance(error, ObjectMissing)
                else f"the photo cannot be read: {error}"
            )
            failed = jobs.fail(session, job_id, reason)
            if failed:
                metrics.record_end(queue, "failed")
            metrics.PROCESSING.labels(queue, "failed" if failed else "discarded").observe(
                time.perf_counter() - claimed
            )
            return
        result = answer_for(classify(analyzer, image, job.hint), job, coach)
        finished = jobs.finish(session, job_id, result.model_dump(mode="json"))
        metrics.PROCESSING.labels(queue, "succeeded" if finished else "discarded").observe(
            time.perf_counter() - claimed
        )
        if finished:
            metrics.record_answer(queue, result.answer.classification)
            logger.info("job answered by %s", analyzer_label(result.answer.classification))
        else:
            logger.warning("job %s was finished by another execution; this result is discarded", job_id)
            return
        record_scan_features(session, job_id, image, embedded_analyzer())


@celery_app.task(name="waste.analyze")
def analyze(job_id: str) -> None:
    run_analysis(uuid.UUID(job_id), embedded_analyzer())


@lru_cache
def openai_clients() -> tuple[OpenAIVisionAnalyzer, LLMCoach]:
    """Built once per worker process: they hold HTTP and Redis connection pools."""
    settings = get_settings()
    return OpenAIVisionAnalyzer(settings), LLMCoach(settings)


@celery_app.task(name="waste.analyze_external", bind=True, max_retries=EXTERNAL_MAX_RETRIES)
def analyze_external(self: Task, job_id: str) -> None:
    """GPT-4o vision on the `external_api` queue: retryable failures back off and retry (the message is
    re-published with a delay, so no worker waits); then, or at once for a permanent failure, the embedded
    analyzer answers and the result records why. With a key, the LLM coach words the answer."""
    settings = get_settings()
    # A presigned GET only helps when the provider can reach our storage (real S3, not a local server).
    with_url = settings.s3_endpoint_url is None
    vision, coach = openai_clients()
    try:
        run_analysis(uuid.UUID(job_id), vision, coach.compose, with_url=with_url)
    except AnalyzerError as error:
        retries_done = self.request.retries
        if error.retryable and retries_done < EXTERNAL_MAX_RETRIES:
            logger.warning("job %s: OpenAI failed (%s), retry %d", job_id, error, retries_done + 1)
            raise self.retry(countdown=retry_delay(error, retries_done), exc=error) from error
        logger.warning("job %s: OpenAI failed (%s); answering with the embedded analyzer", job_id, error)
        fallback = FallbackAnalyzer(embedded_analyzer(), reason=error.reason)
        run_analysis(uuid.UUID(job_id), fallback, coach.compose)


@celery_app.task(name="waste.sweep_stuck_jobs")
def sweep_stuck_jobs(older_than_seconds: float | None = None) -> int:
    """Re-publish jobs whose message never reached the broker or was lost. Duplicates are harmless."""
    if older_than_seconds is None:
        older_than_seconds = get_settings().queued_job_timeout_seconds
    republished = 0
    with Session(get_engine(), expire_on_commit=False) as session:
        for job in jobs.stuck_in_queue(session, timedelta(seconds=older_than_seconds)):
            if publish(session, job):
                republished += 1
            else:
                break  # the broker is still down; try again on the next sweep
    if republished:
        logger.info("re-published %d stuck jobs", republished)
    return republished


@celery_app.task(name="waste.cleanup_expired_uploads")
def cleanup_expired_uploads() -> int:
    """Delete expired upload reservations that were never used, and their objects, a batch per run."""
    with Session(get_engine(), expire_on_commit=False) as session:
        deleted = delete_expired_uploads(session, get_s3_client(), get_settings())
    if deleted:
        logger.info("deleted %d expired, unused uploads", deleted)
    return deleted


def redrive_dead_jobs(job_ids: list[uuid.UUID] | None = None) -> list[uuid.UUID]:
    """Put dead jobs back in their queue (all of them, or the given ones) and publish them. A job whose
    publish fails stays queued for the sweeper, like any other."""
    redriven: list[uuid.UUID] = []
    with Session(get_engine(), expire_on_commit=False) as session:
        candidates = [job.id for job in jobs.dead_jobs(session)] if job_ids is None else job_ids
        for job_id in candidates:
            if jobs.requeue_dead(session, job_id):
                job = session.get(AnalysisJob, job_id, populate_existing=True)
                assert job is not None
                publish(session, job)
                redriven.append(job_id)
    return redriven
