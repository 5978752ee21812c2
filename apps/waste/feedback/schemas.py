from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from apps.waste.feedback.models import FeedbackVerdict


class FeedbackCreate(BaseModel):
    """``confirmed``: the answer was right. ``corrected``: the answer was wrong (or missing); ``category``
    (a taxonomy category key, e.g. ``recyclable/paper_pack``) and optionally ``item`` say what it is."""

    model_config = ConfigDict(extra="forbid")

    verdict: FeedbackVerdict
    category: str | None = Field(default=None, min_length=1, max_length=100)
    item: str | None = Field(default=None, min_length=1, max_length=150)

    @model_validator(mode="after")
    def _category_only_with_a_correction(self) -> FeedbackCreate:
        if self.verdict is FeedbackVerdict.CORRECTED and self.category is None:
            raise ValueError("a correction needs the right category")
        if self.verdict is FeedbackVerdict.CONFIRMED and (self.category or self.item):
            raise ValueError("a confirmation takes no category or item: it confirms the answer given")
        return self


class FeedbackRead(BaseModel):
    job_id: uuid.UUID
    verdict: FeedbackVerdict
    answered_category: str | None
    category: str
    item: str | None
    features_kept: bool = Field(description="the scan's pooled photo features are kept to retrain on")
    created_at: datetime
