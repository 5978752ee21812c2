"""TrashNet on disk (``<root>/<class>/*.jpg``) and its deterministic train / calibration / test split.

Each photo's split is decided by the sha256 of ``<class>/<file name>``, so it never changes when photos are
added elsewhere, is the same on every machine, and no photo ever moves between the split that trained the
head, the one that calibrated it and the one the evaluation reports on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from apps.waste.analysis.classifier.decision import TRASHNET_CLASSES

Split = Literal["train", "calibration", "test"]

SPLIT_PERCENT = {"train": 60, "calibration": 20, "test": 20}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


@dataclass(frozen=True)
class Sample:
    path: Path
    label: int
    split: Split

    @property
    def key(self) -> str:
        return f"{TRASHNET_CLASSES[self.label]}/{self.path.name}"


def split_of(key: str) -> Split:
    bucket = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % 100
    if bucket < SPLIT_PERCENT["train"]:
        return "train"
    if bucket < SPLIT_PERCENT["train"] + SPLIT_PERCENT["calibration"]:
        return "calibration"
    return "test"


def load_trashnet(root: Path) -> list[Sample]:
    """List every photo under ``root`` with its label and split, in a stable order."""
    if not root.is_dir():
        raise FileNotFoundError(f"TrashNet directory not found: {root}")
    samples: list[Sample] = []
    for label, name in enumerate(TRASHNET_CLASSES):
        class_dir = root / name
        if not class_dir.is_dir():
            raise FileNotFoundError(f"TrashNet class folder missing: {class_dir}")
        for path in sorted(class_dir.iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                samples.append(Sample(path, label, split_of(f"{name}/{path.name}")))
    if not samples:
        raise FileNotFoundError(f"no photos found under {root}")
    return samples
