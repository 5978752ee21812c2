"""Feedback on finished analyses, and the labelled scan features a retrain learns from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from apps.recycling.taxonomy import get_taxonomy
from apps.waste.feedback import exceptions as errors
from apps.waste.feedback.models import AnalysisFeedback, ScanFeatures
from apps.waste.feedback.schemas import Confirmation, Correction, FeedbackCreate, FeedbackRead
from apps.waste.models import AnalysisJob, JobStatus
from apps.waste.service import get_job

FEATURE_DTYPE = np.dtype("<f2")


def encode_features(vector: npt.ArrayLike) -> bytes:
    return np.asarray(vector, FEATURE_DTYPE).reshape(-1).tobytes()


def decode_features(blob: bytes) -> npt.NDArray[np.float16]:
    return np.frombuffer(blob, FEATURE_DTYPE).astype(np.float16)


def _answered(job: AnalysisJob) -> tuple[str | None, str | None]:
    """(category, item) the analysis answered; (None, None) when it was uncertain."""
    classification = ((job.result or {}).get("answer") or {}).get("classification") or {}
    return classification.get("category"), classification.get("item")


def _checked_correction(body: Correction) -> tuple[str, str | None]:
    taxonomy = get_taxonomy()
    if not taxonomy.has_category(body.category):
        raise errors.FeedbackRejected(
            f"unknown category {body.category!r}; see GET /api/v1/recycling/categories"
        )
    if body.item is not None and not (
        taxonomy.has_item(body.item) and body.item.startswith(f"{body.category}/")
    ):
        raise errors.FeedbackRejected(f"{body.item!r} is not an item of category {body.category!r}")
    return body.category, body.item


def _read(feedback: AnalysisFeedback, features_kept: bool) -> FeedbackRead:
    return FeedbackRead(
        job_id=feedback.job_id,
        verdict=feedback.verdict,
        answered_category=feedback.answered_category,
        category=feedback.category,
        item=feedback.item,
        features_kept=features_kept,
        created_at=feedback.created_at,
    )


def submit_feedback(
    session: Session, user_id: uuid.UUID, job_id: uuid.UUID, body: FeedbackCreate
) -> FeedbackRead:
    """Record the owner's one feedback on a finished analysis (someone else's job is "not found")."""
    job = get_job(session, user_id, job_id)
    if job.status != JobStatus.SUCCEEDED:
        raise errors.AnalysisNotFinished(
            f"the analysis is {job.status}; feedback is taken once it has succeeded"
        )
    answered_category, answered_item = _answered(job)
    if isinstance(body, Confirmation):
        if answered_category is None:
            raise errors.FeedbackRejected("the analysis gave no answer to confirm; send a correction instead")
        category, item = answered_category, answered_item
    else:
        category, item = _checked_correction(body)
    feedback = AnalysisFeedback(
        job_id=job.id,
        user_id=user_id,
        verdict=body.verdict,
        answered_category=answered_category,
        category=category,
        item=item,
    )
    session.add(feedback)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise errors.FeedbackAlreadyGiven("feedback on this analysis was already given") from None
    features_kept = session.get(ScanFeatures, job.id) is not None
    session.commit()
    return _read(feedback, features_kept)


@dataclass(frozen=True)
class LabelledScan:
    features: npt.NDArray[np.float16]
    category: str
    item: str | None
    backbone_sha256: str


def labelled_scans(session: Session, backbone_sha256: str) -> list[LabelledScan]:
    """Every scan with feedback whose features came from this backbone, with the category users gave."""
    rows = session.exec(
        select(AnalysisFeedback, ScanFeatures)
        .join(ScanFeatures, col(ScanFeatures.job_id) == col(AnalysisFeedback.job_id))
        .where(col(ScanFeatures.backbone_sha256) == backbone_sha256)
        .order_by(col(AnalysisFeedback.created_at), col(AnalysisFeedback.id))
    ).all()
    return [
        LabelledScan(
            decode_features(features.features), feedback.category, feedback.item, features.backbone_sha256
        )
        for feedback, features in rows
    ]
