from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from apps.waste.models import JobStatus
from apps.waste.schemas import ImageContentType, PresignedUploadRead


class UserRead(BaseModel):
    id: uuid.UUID
    nickname: str
    profile_image_url: str | None = Field(description="short-lived URL of the profile image")
    providers: list[str] = Field(description="linked sign-in providers")
    created_at: datetime


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nickname: str | None = Field(default=None, min_length=1, max_length=100)
    profile_image_key: str | None = Field(
        default=None, max_length=300, description="object_key of an uploaded profile image slot"
    )


class ProfileImageUploadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_type: ImageContentType
    size_bytes: int | None = Field(default=None, gt=0)


class ProfileImageUploadCreated(PresignedUploadRead):
    """A profile image's presigned POST; no upload row: `PATCH /me` checks the key is the user's."""


class ScanSummary(BaseModel):
    job_id: uuid.UUID
    status: JobStatus
    created_at: datetime
    category: str | None = Field(description="taxonomy category key; None while running or when uncertain")
    category_label: str | None
    confidence: float | None


class ScanHistory(BaseModel):
    items: list[ScanSummary]
    next_cursor: str | None = Field(description="pass as `cursor` for the next (older) page; None at the end")


class ScanStats(BaseModel):
    scans: int = Field(description="every scan requested")
    by_category: dict[str, int] = Field(description="answered scans per category key ('uncertain' if none)")
    recyclable_share: float | None = Field(
        description="share of answered scans with a category that is recyclable"
    )
    current_streak_days: int = Field(
        description="consecutive days with a scan (Asia/Seoul), ending today or yesterday"
    )


class AccountDeletion(BaseModel):
    status: Literal["deleting"] = "deleting"
