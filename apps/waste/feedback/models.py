"""What users told us about their answers, and the pooled photo features kept to learn from them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, DateTime, LargeBinary, String
from sqlmodel import Field, SQLModel

from apps.core.time import utcnow


class FeedbackVerdict(StrEnum):
    CONFIRMED = "confirmed"  # the answer was right
    CORRECTED = "corrected"  # the user picked the right category


class AnalysisFeedback(SQLModel, table=True):
    """One per analysis job, from its owner. ``category`` is the right category either way."""

    __tablename__ = "analysis_feedback"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    job_id: uuid.UUID = Field(foreign_key="analysis_jobs.id", unique=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    verdict: FeedbackVerdict = Field(sa_column=Column(String(20), nullable=False))
    answered_category: str | None = Field(default=None, max_length=100)
    category: str = Field(max_length=100)
    item: str | None = Field(default=None, max_length=150)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class ScanFeatures(SQLModel, table=True):
    """The embedded backbone's pooled features of a scanned photo (float16, little-endian), written by the
    worker at analysis time: derived data, not the photo, and all a retrain needs from it."""

    __tablename__ = "analysis_features"

    job_id: uuid.UUID = Field(foreign_key="analysis_jobs.id", primary_key=True)
    backbone_sha256: str = Field(max_length=64)
    features: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
