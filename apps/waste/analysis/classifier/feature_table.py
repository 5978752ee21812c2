"""Pooled backbone features of labelled photos: what the head is fitted, calibrated and scored on.

``artifacts/trashnet_features.npz`` holds the TrashNet rows the committed head was trained from (train
split: runtime view plus composites on training backgrounds; calibration split: runtime view plus composites
on the reserved backgrounds), the drawings, and the fixed test split (runtime view), as float16. It is
derived data of TrashNet (MIT; see ``NOTICE``), small enough for git, and it is what lets ``ecoeco classifier
retrain`` refit the head and score it on the fixed split without the photos.
ImageNet logits are not stored: they are ``imagenet_features @ W + b`` of the backbone's last layer
(``imagenet_fc``). ``features`` are what the head reads. A table written for a backbone without a fine-tuned
tail stores only ``features``, which are then the ImageNet tail's too. With one, the head reads both tails
side by side (``waste_features`` = ImageNet tail's, then the fine-tuned tail's), so the table stores
``imagenet_features`` and ``fine_tuned_features`` once each and rebuilds ``features`` on load.

Calibration rows: the calibration photos as shot, the drawings, and two composites of each photo on the
reserved background families (``RESERVED_CALIBRATION_VIEWS``), which the fine-tuned tail never trained on:
levels fitted on the training backgrounds do not carry to new ones (docs/classifier-evaluation.md). A table
made before those rows existed calibrates on its composite on training backgrounds
(``TABLE_CALIBRATION_VIEW``) instead.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from apps.waste.analysis.classifier.artifacts import ArtifactError, write_npz

FEATURES_FILE = "trashnet_features.npz"
IMAGENET_FC_FILE = "imagenet_fc.npz"
RUNTIME_VIEW = 0
TABLE_CALIBRATION_VIEW = 1
RESERVED_CALIBRATION_VIEWS = (20, 21)
_ROW_COLUMNS = ("keys", "labels", "splits", "views", "held_out")
_COLUMNS = (*_ROW_COLUMNS, "features")
# bzip2 stores float16 features 10 % smaller than deflate (22.2 against 24.7 MB for the committed table, which
# ships in the image) and still loads in under 2 s.
TABLE_COMPRESSION = zipfile.ZIP_BZIP2


@dataclass(frozen=True)
class FeatureTable:
    """One row per (photo, view). ``view`` 0 is the runtime transform of the photo; others are composites.
    ``features`` feed the head, ``imagenet_features`` the ImageNet layer (its experts and gates)."""

    keys: npt.NDArray[np.str_]
    labels: npt.NDArray[np.int64]
    splits: npt.NDArray[np.str_]
    views: npt.NDArray[np.int64]
    held_out: npt.NDArray[np.bool_]
    features: npt.NDArray[np.float16]
    imagenet_features: npt.NDArray[np.float16]

    def __len__(self) -> int:
        return len(self.keys)

    def where(self, mask: npt.NDArray[np.bool_]) -> FeatureTable:
        return FeatureTable(
            self.keys[mask],
            self.labels[mask],
            self.splits[mask],
            self.views[mask],
            self.held_out[mask],
            self.features[mask],
            self.imagenet_features[mask],
        )

    def split(self, name: str, runtime_view_only: bool = False) -> FeatureTable:
        mask = self.splits == name
        if runtime_view_only:
            mask &= self.views == RUNTIME_VIEW
        return self.where(mask)

    def superseded(self) -> npt.NDArray[np.bool_]:
        """Calibration composites on training backgrounds in a table that has reserved-background ones."""
        calibration = self.splits == "calibration"
        if not (calibration & np.isin(self.views, RESERVED_CALIBRATION_VIEWS)).any():
            return np.zeros(len(self), bool)
        return np.asarray(calibration & (self.views == TABLE_CALIBRATION_VIEW), dtype=np.bool_)

    def calibration_rows(self) -> FeatureTable:
        """The rows every level is fitted on (``train``, ``retrain`` and ``compare_tails`` alike)."""
        return self.where((self.splits == "calibration") & ~self.superseded())

    @property
    def single_tail(self) -> bool:
        """Whether the head reads the ImageNet tail's features (a backbone without a fine-tuned tail)."""
        return bool(np.array_equal(self.features, self.imagenet_features))

    def save(self, path: Path) -> None:
        stored = {name: getattr(self, name) for name in _ROW_COLUMNS}
        if self.single_tail:
            stored["features"] = self.features
        else:
            width = self.imagenet_features.shape[1]
            if not np.array_equal(self.features[:, :width], self.imagenet_features):
                raise ValueError("the head's features must start with the ImageNet tail's to be stored")
            stored["imagenet_features"] = self.imagenet_features
            stored["fine_tuned_features"] = self.features[:, width:]
        write_npz(path, stored, TABLE_COMPRESSION)

    @classmethod
    def load(cls, path: Path) -> FeatureTable:
        try:
            with np.load(path, allow_pickle=False) as stored:
                if "fine_tuned_features" in stored.files:
                    imagenet = stored["imagenet_features"].astype(np.float16)
                    features = np.hstack([imagenet, stored["fine_tuned_features"].astype(np.float16)])
                else:
                    features = imagenet = stored["features"].astype(np.float16)
                return cls(
                    keys=stored["keys"],
                    labels=stored["labels"].astype(np.int64),
                    splits=stored["splits"],
                    views=stored["views"].astype(np.int64),
                    held_out=stored["held_out"].astype(bool),
                    features=features,
                    imagenet_features=imagenet,
                )
        except (KeyError, ValueError, OSError) as exc:
            raise ArtifactError(f"feature table {path} is unreadable: {exc}") from exc

    @classmethod
    def concatenate(cls, tables: list[FeatureTable]) -> FeatureTable:
        def joined(name: str) -> Any:
            return np.concatenate([getattr(table, name) for table in tables])

        return cls(*(joined(name) for name in (*_COLUMNS, "imagenet_features")))


@dataclass(frozen=True)
class ImageNetLayer:
    """The backbone's last layer (1280 → 1000), so ImageNet logits can be recomputed from stored features."""

    weights: npt.NDArray[np.float32]
    bias: npt.NDArray[np.float32]

    def logits(self, features: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return np.asarray(np.asarray(features, np.float64) @ self.weights + self.bias, np.float64)

    def save(self, path: Path) -> None:
        write_npz(path, {"weights": self.weights, "bias": self.bias})

    @classmethod
    def load(cls, path: Path) -> ImageNetLayer:
        try:
            with np.load(path, allow_pickle=False) as stored:
                return cls(stored["weights"].astype(np.float32), stored["bias"].astype(np.float32))
        except (KeyError, ValueError, OSError) as exc:
            raise ArtifactError(f"ImageNet layer {path} is unreadable: {exc}") from exc
