"""Worker side: keep the pooled features of a scanned photo, so feedback on it can teach a retrained head."""

from __future__ import annotations

import logging
import uuid

from sqlmodel import Session

from apps.waste.analysis.classifier import artifacts
from apps.waste.analysis.classifier.artifacts import ArtifactError
from apps.waste.analysis.embedded import EmbeddedAnalyzer
from apps.waste.analysis.types import ImageInput
from apps.waste.feedback.models import ScanFeatures
from apps.waste.feedback.service import encode_features

logger = logging.getLogger(__name__)


def backbone_sha256(analyzer: EmbeddedAnalyzer) -> str:
    return artifacts.backbone_sha256(analyzer.artifacts_dir)


def record_scan_features(
    session: Session, job_id: uuid.UUID, image: ImageInput, analyzer: EmbeddedAnalyzer
) -> bool:
    """Store the features the head reads (reused if the embedded analyzer answered) with the backbone that
    computed them; never fails the job."""
    try:
        vector = analyzer.features(image)
        sha = backbone_sha256(analyzer)
    except ArtifactError as error:
        logger.warning("job %s: scan features not kept: %s", job_id, error)
        return False
    session.merge(ScanFeatures(job_id=job_id, backbone_sha256=sha, features=encode_features(vector)))
    session.commit()
    return True
