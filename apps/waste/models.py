"""Uploads and analysis jobs. A job's state changes are compare-and-set updates on its row."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, DateTime, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

import apps.users.models  # noqa: F401  (uploads and jobs reference users: its table must be in the metadata)
from apps.core.time import utcnow


def _timestamp(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


class UploadStatus(StrEnum):
    PENDING = "pending"
    CONSUMED = "consumed"


class Upload(SQLModel, table=True):
    """A presigned upload slot: the server chose the key; the object is trusted only after verification."""

    __tablename__ = "uploads"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    object_key: str = Field(max_length=300, unique=True)
    content_type: str = Field(max_length=50)
    max_bytes: int
    status: UploadStatus = Field(default=UploadStatus.PENDING, sa_column=Column(String(20), nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    consumed_at: datetime | None = _timestamp()


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEAD = "dead"

    @property
    def terminal(self) -> bool:
        """No worker will touch the job again on its own."""
        return self in {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.DEAD}

    @property
    def final(self) -> bool:
        """The job can never change again (a dead job can still be re-driven)."""
        return self in {JobStatus.SUCCEEDED, JobStatus.FAILED}


class AnalysisJob(SQLModel, table=True):
    __tablename__ = "analysis_jobs"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key", name="uq_analysis_jobs_user_idempotency_key"),
        Index("ix_analysis_jobs_status_published_at", "status", "published_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    upload_id: uuid.UUID = Field(foreign_key="uploads.id", unique=True)
    idempotency_key: str | None = Field(default=None, max_length=200)
    hint: str | None = Field(default=None, max_length=200)
    latitude: float | None = None
    longitude: float | None = None
    queue: str = Field(max_length=50)
    status: JobStatus = Field(default=JobStatus.QUEUED, sa_column=Column(String(20), nullable=False))
    attempts: int = 0
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    published_at: datetime | None = _timestamp()
    started_at: datetime | None = _timestamp()
    finished_at: datetime | None = _timestamp()


class JobEvent(SQLModel, table=True):
    """Append-only audit of a job's transitions: one `succeeded` row per job shows it completed once."""

    __tablename__ = "analysis_job_events"

    id: int | None = Field(default=None, primary_key=True)
    job_id: uuid.UUID = Field(foreign_key="analysis_jobs.id", index=True)
    status: JobStatus = Field(sa_column=Column(String(20), nullable=False))
    detail: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
