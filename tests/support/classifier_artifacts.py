"""A tiny, synthetic classifier artifacts directory (16-d features) for fitting and retraining tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from apps.waste.analysis.classifier.artifacts import HEAD_FILE, MODEL_FILE, record_artifact
from apps.waste.analysis.classifier.decision import HEAD_CLASSES
from apps.waste.analysis.classifier.feature_table import (
    FEATURES_FILE,
    IMAGENET_FC_FILE,
    RESERVED_CALIBRATION_VIEWS,
    FeatureTable,
    ImageNetLayer,
)
from apps.waste.analysis.classifier.fit import Rows, fit_head

DIMENSIONS = 16
STAND_IN_BACKBONE = b"stand-in backbone"
STAND_IN_BACKBONE_SHA256 = hashlib.sha256(STAND_IN_BACKBONE).hexdigest()
ASHCAN = 412  # an ImageNet class in no group: neutral evidence


def class_centres(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 0.8, size=(len(HEAD_CLASSES), DIMENSIONS))


def synthetic_table(seed: int = 0, per_class_split: int = 14, reserved: bool = False) -> FeatureTable:
    """Overlapping Gaussian classes; two views per photo in every split (and, with ``reserved``, the
    reserved-background composites of the calibration photos)."""
    rng = np.random.default_rng(seed + 1)
    centres = class_centres(seed)
    keys, labels, splits, views, features = [], [], [], [], []
    for split in ("train", "calibration", "test"):
        for label in range(len(HEAD_CLASSES)):
            for index in range(per_class_split):
                extra = RESERVED_CALIBRATION_VIEWS if reserved and split == "calibration" else ()
                for view in (0, 1, *extra):
                    keys.append(f"{HEAD_CLASSES[label]}/{split}{index}.jpg")
                    labels.append(label)
                    splits.append(split)
                    views.append(view)
                    features.append(centres[label] + rng.normal(0.0, 1.0, DIMENSIONS))
    stored = np.array(features, np.float16)
    return FeatureTable(
        keys=np.array(keys),
        labels=np.array(labels, np.int64),
        splits=np.array(splits),
        views=np.array(views, np.int64),
        held_out=np.zeros(len(keys), bool),
        features=stored,
        imagenet_features=stored,  # a single-tail backbone: the head reads the ImageNet tail's features
    )


def neutral_layer() -> ImageNetLayer:
    bias = np.zeros(1000, np.float32)
    bias[ASHCAN] = 12.0
    return ImageNetLayer(np.zeros((DIMENSIONS, 1000), np.float32), bias)


def write_artifacts(directory: Path, seed: int = 0, reserved: bool = False) -> FeatureTable:
    """features, ImageNet layer, a fitted head.npz and a manifest (with a stand-in backbone entry)."""
    directory.mkdir(parents=True, exist_ok=True)
    table, layer = synthetic_table(seed, reserved=reserved), neutral_layer()
    table.save(directory / FEATURES_FILE)
    layer.save(directory / IMAGENET_FC_FILE)
    (directory / MODEL_FILE).write_bytes(STAND_IN_BACKBONE)
    head = fit_head(Rows.training(table), Rows.of(table.calibration_rows()), layer, 0.9)
    head.save(directory / HEAD_FILE)
    for name in (IMAGENET_FC_FILE, MODEL_FILE):
        record_artifact(directory, name, produced_by="tests.support.classifier_artifacts", details={})
    for name in (FEATURES_FILE, HEAD_FILE):  # made from that backbone's features
        record_artifact(
            directory,
            name,
            produced_by="tests.support.classifier_artifacts",
            details={"backbone_sha256": STAND_IN_BACKBONE_SHA256},
        )
    return table
