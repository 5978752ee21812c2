from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from apps.waste.feedback.models import FeedbackVerdict


class Confirmation(BaseModel):
    """``confirmed``: the answer was right (it names no category: it confirms the one given)."""

    model_config = ConfigDict(extra="forbid")

    verdict: Literal[FeedbackVerdict.CONFIRMED]
    category: None = None
    item: None = None


class Correction(BaseModel):
    """``corrected``: the answer was wrong (or missing); ``category`` (a taxonomy category key, e.g.
    ``recyclable/paper_pack``) and optionally ``item`` say what it is."""

    model_config = ConfigDict(extra="forbid")

    verdict: Literal[FeedbackVerdict.CORRECTED]
    category: str = Field(min_length=1, max_length=100)
    item: str | None = Field(default=None, min_length=1, max_length=150)


# Which fields go with which verdict is in the schema itself (one of two shapes), not in a validator the
# OpenAPI cannot show.
FeedbackCreate = Annotated[Confirmation | Correction, Field(discriminator="verdict")]


class FeedbackRead(BaseModel):
    job_id: uuid.UUID
    verdict: FeedbackVerdict
    answered_category: str | None
    category: str
    item: str | None
    features_kept: bool = Field(description="the scan's pooled photo features are kept to retrain on")
    created_at: datetime
