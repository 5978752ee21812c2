"""Retraining from stored features plus labelled scans: versioned artifacts, and a worse head is refused."""

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from apps.core.settings import Settings
from apps.waste.analysis.classifier.artifacts import (
    HEAD_FILE,
    ArtifactError,
    load_manifest,
    record_artifact,
    sha256_of,
)
from apps.waste.analysis.classifier.decision import CORRUGATED_CARDBOARD_ITEM, HEAD_CLASSES
from apps.waste.analysis.classifier.feature_table import FEATURES_FILE
from apps.waste.analysis.classifier.retrain import (
    SCAN_WEIGHT,
    RetrainRefused,
    class_of,
    publish,
    retrain,
    scan_rows,
)
from apps.waste.analysis.classifier.runtime import load_head
from tests.support.classifier_artifacts import (
    DIMENSIONS,
    STAND_IN_BACKBONE_SHA256,
    class_centres,
    write_artifacts,
)


@dataclass(frozen=True)
class Scan:
    features: np.ndarray
    category: str
    item: str | None = None
    backbone_sha256: str = STAND_IN_BACKBONE_SHA256


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    write_artifacts(tmp_path / "artifacts")
    return tmp_path / "artifacts"


def _scans(count: int, label: str, looks_like: str, seed: int = 5) -> list[Scan]:
    """``count`` scans labelled ``label`` whose features are those of class ``looks_like``."""
    rng = np.random.default_rng(seed)
    centre = class_centres()[HEAD_CLASSES.index(looks_like)]
    category = {"glass": "recyclable/glass", "metal": "recyclable/metal", "plastic": "recyclable/plastic"}[
        label
    ]
    return [Scan(centre + rng.normal(0.0, 0.3, DIMENSIONS), category) for _ in range(count)]


def test_a_retrained_head_that_is_worse_on_the_fixed_split_is_refused(artifacts: Path):
    # Hundreds of "confirmed" scans that look like glass but were labelled metal poison the head.
    poisoned = _scans(300, "metal", looks_like="glass")
    with pytest.raises(RetrainRefused, match="worse on the fixed test split"):
        retrain(artifacts, HEAD_FILE, poisoned, target_accuracy=0.9)
    assert [name for name in load_manifest(artifacts)["files"] if name.startswith("head-")] == []


def test_an_accepted_head_is_a_versioned_artifact_selected_by_the_setting(artifacts: Path):
    # No usable scan (food is the ImageNet experts' job): the same procedure refits the same head, which is
    # not worse, so it is accepted.
    outcome = retrain(artifacts, HEAD_FILE, [Scan(np.zeros(DIMENSIONS), "food")], target_accuracy=0.9)
    assert (outcome.scans_used, outcome.scans_skipped) == (0, 1)
    assert (outcome.after.answered, outcome.after.right) == (outcome.before.answered, outcome.before.right)
    name = publish(artifacts, outcome)
    entry = load_manifest(artifacts)["files"][name]
    assert entry["sha256"] == sha256_of(artifacts / name)
    assert name == f"head-{entry['sha256'][:12]}.npz"
    assert entry["parent"] == HEAD_FILE
    assert entry["scans"] == 0
    assert entry["backbone_sha256"] == STAND_IN_BACKBONE_SHA256
    assert entry["test_split_after"]["right_overall"] == outcome.after.right_overall
    assert Settings(_env_file=None, classifier_head=name).classifier_head == name
    loaded = load_head(artifacts.resolve(), name)
    assert np.allclose(loaded.weights, outcome.head.weights, atol=1e-5)


def test_retraining_calibrates_on_the_rows_train_calibrated_on(tmp_path: Path):
    table = write_artifacts(tmp_path / "artifacts", reserved=True)
    outcome = retrain(tmp_path / "artifacts", HEAD_FILE, [], target_accuracy=0.9)
    calibrated = outcome.head.provenance["calibration_rows"]
    assert calibrated == len(table.calibration_rows()) < len(table.split("calibration"))
    assert (outcome.after.answered, outcome.after.right) == (outcome.before.answered, outcome.before.right)


def test_a_head_name_must_be_a_versioned_head_file():
    with pytest.raises(ValueError, match="classifier_head"):
        Settings(_env_file=None, classifier_head="../../etc/passwd")


@pytest.mark.parametrize(
    ("category", "item", "expected"),
    [
        ("recyclable/paper", None, "paper"),
        ("recyclable/paper", CORRUGATED_CARDBOARD_ITEM, "cardboard"),
        ("recyclable/glass", None, "glass"),
        ("general", None, "trash"),
        ("recyclable/textile", None, "textile"),
        ("recyclable/paper_pack", "recyclable/paper_pack/milk_carton", "paper_pack"),
        ("food", None, None),
    ],
)
def test_labelled_categories_map_to_head_classes(category, item, expected):
    label = class_of(category, item)
    assert (None if label is None else HEAD_CLASSES[label]) == expected


def test_labelled_scans_become_weighted_training_rows_of_their_class():
    rows = scan_rows([*_scans(3, "glass", looks_like="glass"), Scan(np.zeros(DIMENSIONS), "food")])
    assert rows is not None
    assert list(rows.labels) == [HEAD_CLASSES.index("glass")] * 3
    assert (rows.weights == SCAN_WEIGHT).all()
    assert not rows.as_shot.any()  # users' photos are scenes: the scene head's rows, not the board head's
    assert scan_rows([Scan(np.zeros(DIMENSIONS), "food")]) is None


def test_scans_kept_under_another_backbone_are_never_mixed_in(artifacts: Path):
    # Labelled like the poisoned scans above, but their features come from an older backbone: they live in
    # another feature space, so they are counted and left out, and the refit is the plain one (accepted).
    older = [replace(scan, backbone_sha256="0" * 64) for scan in _scans(300, "metal", looks_like="glass")]
    outcome = retrain(artifacts, HEAD_FILE, older, target_accuracy=0.9)
    assert (outcome.scans_used, outcome.scans_skipped, outcome.scans_other_backbone) == (0, 0, 300)
    assert outcome.after.right == outcome.before.right


def test_stored_features_of_another_backbone_are_refused(artifacts: Path):
    record_artifact(
        artifacts,
        FEATURES_FILE,
        produced_by="an older train run",
        details={"backbone_sha256": "0" * 64},
    )
    with pytest.raises(ArtifactError, match=r"made from the features of backbone 0{64}"):
        retrain(artifacts, HEAD_FILE, [], target_accuracy=0.9)
