"""The analysis pipeline a worker runs for one job: photo → classification → disposal rules → answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from apps.core.images import decode_image
from apps.core.settings import Settings, get_settings
from apps.core.storage import presign_get, read_object
from apps.core.time import utcnow
from apps.locations.service import get_index
from apps.waste.analysis import metrics
from apps.waste.analysis.coach import compose_answer
from apps.waste.analysis.embedded import EmbeddedAnalyzer
from apps.waste.analysis.hint import classify_hint, merge
from apps.waste.analysis.types import Analyzer, Answer, Classification, ImageInput
from apps.waste.models import AnalysisJob, Upload
from apps.waste.schemas import AnalysisResult, CollectionPointSummary

PRESIGNED_GET_TTL_SECONDS = 120
NEARBY_RADIUS_M = 10_000.0
NEARBY_LIMIT = 3


@lru_cache
def embedded_analyzer() -> EmbeddedAnalyzer:
    """One model session per worker process, loaded on first use (or at start-up by the worker)."""
    settings = get_settings()
    return EmbeddedAnalyzer(
        threshold=settings.classifier_threshold, intra_op_threads=settings.classifier_threads
    )


@dataclass(frozen=True)
class FallbackAnalyzer:
    """The embedded analyzer answering for a primary analyzer that failed; the result says why."""

    fallback: Analyzer
    reason: str

    def analyze(self, image: ImageInput, hint: str | None = None) -> Classification:
        return self.fallback.analyze(image, hint).model_copy(update={"fallback_reason": self.reason})


def load_image(s3: Any, settings: Settings, upload: Upload, with_url: bool) -> ImageInput:
    data = read_object(s3, settings.s3_bucket, upload.object_key)
    image = decode_image(data, upload.content_type, settings.image_max_pixels)
    url = (
        presign_get(s3, settings.s3_bucket, upload.object_key, PRESIGNED_GET_TTL_SECONDS)
        if with_url
        else None
    )
    return ImageInput(data=data, content_type=upload.content_type, image=image, url=url)


def classify(analyzer: Analyzer, image: ImageInput, hint: str | None) -> Classification:
    """Read the photo, then let a confident hint settle what the photo left uncertain."""
    started = time.perf_counter()
    from_image = analyzer.analyze(image, hint)
    elapsed = time.perf_counter() - started
    metrics.CLASSIFIER_DURATION.labels(metrics.analyzer_label(from_image)).observe(elapsed)
    return merge(from_image, classify_hint(hint) if hint else None)


def collection_points_for(
    classification: Classification, latitude: float | None, longitude: float | None
) -> list[CollectionPointSummary]:
    """Nearby points that accept what was recognised; none when we are not sure what it is."""
    if latitude is None or longitude is None or classification.category is None:
        return []
    matches = get_index().search(
        latitude, longitude, radius_m=NEARBY_RADIUS_M, category=classification.category, limit=NEARBY_LIMIT
    )
    now = utcnow()
    return [
        CollectionPointSummary(
            name=match.point.name,
            address=match.point.address or match.point.region,
            distance_m=round(match.distance_m, 1),
            latitude=match.point.lat,
            longitude=match.point.lng,
            open_now=match.point.hours.open_at(now),
            phone=match.point.phone,
        )
        for match in matches
    ]


Coach = Callable[[Classification], Answer]


def answer_for(
    classification: Classification, job: AnalysisJob, coach: Coach = compose_answer
) -> AnalysisResult:
    answer = coach(classification)
    return AnalysisResult(
        answer=answer, collection_points=collection_points_for(classification, job.latitude, job.longitude)
    )
