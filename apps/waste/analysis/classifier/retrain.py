"""Refit the head on TrashNet's stored features plus the scans users labelled; keep it only if not worse.

Numpy only (no torch, no photos): the TrashNet rows are ``artifacts/trashnet_features.npz``, the scans' pooled
features were kept by the worker at analysis time. A scan counts with the category its owner confirmed or gave
when that category is one the head has a class for (종이 → paper, or cardboard when the item is corrugated
cardboard; 유리, 금속, 플라스틱, 일반, 의류, 종이팩); other categories are the ImageNet experts' only.
Scans whose features came from another backbone than the one beside the artifacts (kept before a model
change) are counted and never mixed in: they live in another feature space.
The candidate is scored against the current head on the fixed TrashNet test split; if it is worse on right
answers overall or on accuracy when answered, it is refused. An accepted head is written as
``head-<first 12 hex of its sha256>.npz`` with a manifest entry (checksum, parent, scans, both scores), and
is used once ``ECO2_CLASSIFIER_HEAD`` names it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from apps.waste.analysis.classifier.artifacts import (
    ArtifactError,
    backbone_sha256,
    record_artifact,
    sha256_of,
)
from apps.waste.analysis.classifier.decision import CLASS_CATEGORY, CORRUGATED_CARDBOARD_ITEM, HEAD_CLASSES
from apps.waste.analysis.classifier.feature_table import FeatureTable, ImageNetLayer
from apps.waste.analysis.classifier.fit import DEFAULT_TARGET_ACCURACY, Rows, fit_head
from apps.waste.analysis.classifier.head import Head
from apps.waste.analysis.classifier.runtime import load_feature_table, load_head, load_imagenet_layer
from apps.waste.analysis.classifier.scoring import Score, score_verdicts, verdicts_for

# A user's label of a real photo is worth more than one more TrashNet view.
SCAN_WEIGHT = 3.0
COMMAND = "ecoeco classifier retrain"


class RetrainRefused(RuntimeError):
    """The candidate head is worse than the current one on the fixed test split."""


class Scan(Protocol):
    """A scan's kept features with the category (and item) its owner confirmed or gave, and the checksum of
    the backbone that computed those features."""

    @property
    def features(self) -> npt.NDArray[np.floating[Any]]: ...
    @property
    def category(self) -> str: ...
    @property
    def item(self) -> str | None: ...
    @property
    def backbone_sha256(self) -> str: ...


def class_of(category: str, item: str | None) -> int | None:
    """The head's class for a labelled category, or None when the head has none (an expert's category)."""
    if category == "recyclable/paper":
        name = "cardboard" if item == CORRUGATED_CARDBOARD_ITEM else "paper"
        return HEAD_CLASSES.index(name)
    by_category = {value: key for key, value in CLASS_CATEGORY.items() if value != "recyclable/paper"}
    name_or_none = by_category.get(category)
    return None if name_or_none is None else HEAD_CLASSES.index(name_or_none)


def scan_rows(scans: Sequence[Scan]) -> Rows | None:
    usable = [(scan, label) for scan in scans if (label := class_of(scan.category, scan.item)) is not None]
    if not usable:
        return None
    return Rows(
        np.stack([np.asarray(scan.features, np.float64) for scan, _ in usable]),
        np.array([label for _, label in usable], np.int64),
        np.full(len(usable), SCAN_WEIGHT),
        np.zeros(len(usable), bool),  # real photos: scenes, never the board head's
    )


def score_on_test_split(head: Head, table: FeatureTable, layer: ImageNetLayer) -> Score:
    test = table.split("test", runtime_view_only=True)
    truth: list[str | None] = [CLASS_CATEGORY[HEAD_CLASSES[label]] for label in test.labels]
    return score_verdicts(verdicts_for(head, layer, test.features, test.imagenet_features), truth)


def is_worse(candidate: Score, current: Score) -> str | None:
    """Why ``candidate`` is worse than ``current`` on the same photos, or None when it is not."""
    reasons = []
    if candidate.right < current.right:
        reasons.append(f"right answers {candidate.right} < {current.right}")
    if candidate.answered_accuracy < current.answered_accuracy:
        reasons.append(
            f"accuracy when answered {candidate.answered_accuracy:.1%} < {current.answered_accuracy:.1%}"
        )
    return "; ".join(reasons) or None


@dataclass(frozen=True)
class Outcome:
    before: Score
    after: Score
    scans_used: int
    scans_skipped: int  # labelled with a category the head has no class for
    head: Head
    scans_other_backbone: int = 0  # features from another backbone: never mixed in


def retrain(
    artifacts_dir: Path,
    current: str,
    scans: Sequence[Scan],
    target_accuracy: float = DEFAULT_TARGET_ACCURACY,
) -> Outcome:
    """Fit a candidate from TrashNet rows + scans; ``RetrainRefused`` if it is worse than ``current``."""
    artifacts_dir = artifacts_dir.resolve()
    table = load_feature_table(artifacts_dir)
    layer = load_imagenet_layer(artifacts_dir)
    backbone = backbone_sha256(artifacts_dir)
    current_head = load_head(artifacts_dir, current)
    same_backbone = [scan for scan in scans if scan.backbone_sha256 == backbone]
    extra = scan_rows(same_backbone)
    parts = [Rows.training(table)] + ([extra] if extra is not None else [])
    used = 0 if extra is None else len(extra.labels)
    candidate = fit_head(
        Rows.concatenate(parts),
        Rows.of(table.calibration_rows()),
        layer,
        target_accuracy,
        provenance={
            "command": COMMAND,
            "parent": current,
            "scans": used,
            "scan_weight": SCAN_WEIGHT,
            "backbone_sha256": backbone,
            "head_features": current_head.provenance.get("head_features", "features"),
        },
    )
    candidate = _as_stored(candidate)  # score exactly what would be deployed (float32 arrays)
    before = score_on_test_split(current_head, table, layer)
    after = score_on_test_split(candidate, table, layer)
    outcome = Outcome(
        before, after, used, len(same_backbone) - used, candidate, len(scans) - len(same_backbone)
    )
    reason = is_worse(after, before)
    if reason is not None:
        raise RetrainRefused(
            f"the retrained head is worse on the fixed test split ({reason}); kept {current}"
        )
    return outcome


def _as_stored(head: Head) -> Head:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "candidate.npz"
        head.save(path)
        return Head.load(path)


def publish(artifacts_dir: Path, outcome: Outcome) -> str:
    """Write the accepted head as a versioned artifact and record it in the manifest; returns its name."""
    staging = artifacts_dir / "head-candidate.npz"
    outcome.head.save(staging)
    name = f"head-{sha256_of(staging)[:12]}.npz"
    target = artifacts_dir / name
    if target.exists() and sha256_of(target) != sha256_of(staging):
        staging.unlink()
        raise ArtifactError(f"{target} exists with different content")
    staging.replace(target)

    def figures(score: Score) -> dict[str, Any]:
        return {
            "right_overall": score.right_overall,
            "answered_accuracy": score.answered_accuracy,
            "coverage": score.coverage,
        }

    record_artifact(
        artifacts_dir,
        name,
        produced_by=COMMAND,
        details={
            "version": name.removesuffix(".npz").removeprefix("head-"),
            "parent": outcome.head.provenance.get("parent"),
            "scans": outcome.scans_used,
            "backbone_sha256": outcome.head.provenance["backbone_sha256"],
            "head_features": outcome.head.provenance.get("head_features", "features"),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "threshold": outcome.head.threshold,
            "test_split_before": figures(outcome.before),
            "test_split_after": figures(outcome.after),
        },
    )
    return name
