"""Calibrating a fine-tuned tail on background families of its own (training tooling, no torch)."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from apps.waste.analysis.classifier.feature_table import RESERVED_CALIBRATION_VIEWS, FeatureTable
from tools.classifier import features
from tools.classifier.backgrounds import HELD_OUT_FAMILIES, RESERVED_FAMILIES, TRAIN_FAMILIES, background
from tools.classifier.compare_tails import calibration_rows
from tools.classifier.composite import matte
from tools.classifier.dataset import Sample
from tools.classifier.features import all_views, reserved_calibration_views
from tools.classifier.train import committed_rows

from .test_composites import board_photo


def test_reserved_families_are_disjoint_from_training_and_held_out_ones():
    assert not set(RESERVED_FAMILIES) & (set(TRAIN_FAMILIES) | set(HELD_OUT_FAMILIES))
    for name in RESERVED_FAMILIES:
        image = background(np.random.default_rng(0), 64, families={name: RESERVED_FAMILIES[name]})
        assert image.size == (64, 64)
        assert np.asarray(image).std() > 5  # a texture, not a flat colour


def test_only_calibration_photos_get_composites_and_those_on_reserved_families(monkeypatch):
    used = []

    def compose(group, rng, held_out, families):
        used.append(families)
        return Image.new("RGB", (8, 8))

    monkeypatch.setattr(features, "compose", compose)
    photo = board_photo()
    cutouts = {"metal/a.jpg": matte(photo)}
    views = {
        split: [
            view
            for view, _, _ in reserved_calibration_views(Sample(Path("a.jpg"), 2, split), photo, cutouts, [])
        ]
        for split in ("train", "calibration", "test")
    }
    assert views == {"train": [], "calibration": list(RESERVED_CALIBRATION_VIEWS), "test": []}
    assert used == [RESERVED_FAMILIES] * len(RESERVED_CALIBRATION_VIEWS)


def _table(views: list[int], split: str = "calibration", held_out: list[bool] | None = None) -> FeatureTable:
    count = len(views)
    return FeatureTable(
        keys=np.array([f"metal/{index}.jpg" for index in range(count)]),
        labels=np.zeros(count, np.int64),
        splits=np.array([split] * count),
        views=np.array(views, np.int64),
        held_out=np.array(held_out or [False] * count, bool),
        features=np.zeros((count, 4), np.float16),
        imagenet_features=np.zeros((count, 4), np.float16),
    )


def test_reserved_calibration_swaps_the_training_background_composites_for_the_reserved_ones():
    table = _table([0, 1, *RESERVED_CALIBRATION_VIEWS, 0])
    assert calibration_rows(table, "table").views.tolist() == [0, 1, 0]
    assert calibration_rows(table, "reserved").views.tolist() == [0, *RESERVED_CALIBRATION_VIEWS, 0]


def test_reserved_calibration_without_reserved_rows_is_refused():
    with pytest.raises(SystemExit, match="finetune_cache"):
        calibration_rows(_table([0, 1]), "reserved")


def test_the_table_calibrates_on_reserved_composites_in_place_of_training_background_ones_when_it_has_them():
    with_reserved = _table([0, 1, *RESERVED_CALIBRATION_VIEWS, 0])
    assert with_reserved.calibration_rows().views.tolist() == [0, *RESERVED_CALIBRATION_VIEWS, 0]
    assert _table([0, 1, 0]).calibration_rows().views.tolist() == [0, 1, 0]  # a table made without them


def test_train_stores_neither_held_out_composites_nor_the_calibration_composites_reserved_ones_replace():
    table = FeatureTable.concatenate(
        [
            _table([0, 1, 2], split="train"),
            _table([0, 1, *RESERVED_CALIBRATION_VIEWS]),
            _table([0, 1], split="test", held_out=[False, True]),
        ]
    )
    stored = committed_rows(table)
    assert list(zip(stored.splits.tolist(), stored.views.tolist(), strict=True)) == [
        ("train", 0),
        ("train", 1),
        ("train", 2),
        ("calibration", 0),
        *(("calibration", view) for view in RESERVED_CALIBRATION_VIEWS),
        ("test", 0),
    ]


def test_every_table_view_of_a_calibration_photo_comes_with_its_reserved_composites(monkeypatch):
    monkeypatch.setattr(features, "compose", lambda group, rng, held_out, families: Image.new("RGB", (8, 8)))
    photo = board_photo()
    cutouts = {"metal/a.jpg": matte(photo)}
    made = [view for view, _, _ in all_views(Sample(Path("a.jpg"), 2, "calibration"), photo, cutouts, [])]
    assert made == [0, 1, *RESERVED_CALIBRATION_VIEWS]
