from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat

from apps.core.images import EXTENSION_BY_CONTENT_TYPE
from apps.core.request_limits import NO_NUL_PATTERN, PositiveJsonInt
from apps.waste.analysis.types import Answer
from apps.waste.models import JobStatus

ImageContentType = Literal["image/jpeg", "image/png", "image/webp", "image/heic"]
assert set(EXTENSION_BY_CONTENT_TYPE) == set(ImageContentType.__args__)  # type: ignore[attr-defined]


class UploadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_type: ImageContentType
    size_bytes: PositiveJsonInt | None = Field(
        default=None, description="optional; checked against the limit early"
    )


class PresignedUploadRead(BaseModel):
    """Where and how the client POSTs a photo: the scan upload's and the profile image's shared answer."""

    object_key: str
    upload_url: str
    upload_fields: dict[str, str] = Field(
        description="form fields to POST with the file (last field: `file`)"
    )
    max_bytes: int
    expires_at: datetime


class UploadCreated(PresignedUploadRead):
    upload_id: uuid.UUID


class AnalysisCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    upload_id: uuid.UUID
    hint: str | None = Field(
        default=None, max_length=200, pattern=NO_NUL_PATTERN, description="free text, e.g. '우유팩'"
    )
    latitude: StrictFloat | None = Field(default=None, ge=-90, le=90)
    longitude: StrictFloat | None = Field(default=None, ge=-180, le=180)


class AnalysisAccepted(BaseModel):
    job_id: uuid.UUID
    status: JobStatus
    poll_url: str


class CollectionPointSummary(BaseModel):
    name: str
    address: str
    distance_m: float
    latitude: float
    longitude: float
    open_now: bool | None = None
    phone: str | None = None


class AnalysisResult(BaseModel):
    """What the worker stores on the job row when it succeeds."""

    answer: Answer
    collection_points: list[CollectionPointSummary] = Field(default_factory=list)


class AnalysisRead(BaseModel):
    job_id: uuid.UUID
    status: JobStatus
    created_at: datetime
    finished_at: datetime | None
    result: AnalysisResult | None = None
    error: str | None = None
