"""Typed contract shared by every analyzer, the coach and the scan pipeline.

Category keys are taxonomy node keys from `apps.recycling.taxonomy`: a 대분류 key alone (``"general"``,
``"food"``) or ``"recyclable/<중분류 key>"`` (``"recyclable/paper"``). Item keys (소분류) extend a
category key with one more segment (``"recyclable/paper_pack/milk_carton"``). Condition keys are the
situation tags' keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol

from PIL import Image
from pydantic import BaseModel, Field


class AnalyzerSource(StrEnum):
    EMBEDDED = "embedded"
    HINT = "hint"
    OPENAI = "openai"


class Candidate(BaseModel):
    category: str
    probability: float = Field(ge=0.0, le=1.0)


class Classification(BaseModel):
    """What an analyzer read from the photo (and hint). Calibrated, honest about doubt."""

    status: Literal["confident", "uncertain"]
    category: str | None = Field(description="taxonomy category key; None when uncertain")
    item: str | None = Field(default=None, description="소분류 item key when known")
    confidence: float = Field(ge=0.0, le=1.0, description="calibrated probability of the top category")
    candidates: list[Candidate] = Field(default_factory=list, description="top categories, best first")
    conditions: list[str] = Field(default_factory=list, description="situation tag keys")
    source: AnalyzerSource
    fallback_reason: str | None = Field(default=None, description="why a fallback analyzer answered")
    notes: str | None = None


@dataclass(frozen=True)
class ImageInput:
    """A verified upload: raw bytes, their content type, the decoded RGB image, and a short-lived URL."""

    data: bytes
    content_type: str
    image: Image.Image
    url: str | None = None


class Analyzer(Protocol):
    def analyze(self, image: ImageInput, hint: str | None = None) -> Classification: ...


class Answer(BaseModel):
    """The coach's answer shown to the person."""

    classification: Classification
    category_label: str | None = Field(description="Korean label of the category, e.g. '종이팩'")
    steps: list[str] = Field(default_factory=list, description="numbered disposal steps, in order")
    prepare: list[str] = Field(default_factory=list, description="what to clean or separate first")
    insufficiencies: list[str] = Field(default_factory=list, description="what the person has not done yet")
    exceptions: list[str] = Field(default_factory=list, description="look-alikes that go elsewhere")
    reply: str = Field(description="short friendly reply in Korean")
    needs_hint: bool = Field(default=False, description="true when the photo alone was not enough")
