"""Fitting the head from stored features, and the feature extraction cache, without TrashNet."""

import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from apps.waste.analysis.classifier.artifacts import DEFAULT_ARTIFACTS_DIR
from apps.waste.analysis.classifier.backbone import Backbone
from apps.waste.analysis.classifier.decision import HEAD_CLASSES, Abstention
from apps.waste.analysis.classifier.feature_table import (
    FEATURES_FILE,
    RESERVED_CALIBRATION_VIEWS,
    FeatureTable,
    ImageNetLayer,
)
from apps.waste.analysis.classifier.fit import EXPERT_ANSWER_FLOOR, EXPERT_VETO_RANGE, Rows, fit_head
from apps.waste.analysis.classifier.scoring import verdicts_for
from tests.support.classifier_artifacts import neutral_layer, synthetic_table
from tools.classifier.dataset import Sample, Split
from tools.classifier.features import extract


def test_extract_runs_the_backbone_once_then_serves_the_cache(tmp_path, monkeypatch):
    samples = []
    splits: list[tuple[tuple[int, int, int], Split]] = [
        ((200, 30, 30), "train"),
        ((30, 200, 30), "calibration"),
    ]
    for index, (colour, split) in enumerate(splits):
        path = tmp_path / f"photo{index}.jpg"
        Image.new("RGB", (320, 240), colour).save(path)
        samples.append(Sample(path, index, split))
    cache = tmp_path / "cache"
    first = extract(samples, DEFAULT_ARTIFACTS_DIR, cache, threads=1)
    # train: photo + 2 composites; calibration: photo + 1 + 2 on the reserved backgrounds
    assert len(first) == 3 + 4
    assert list(first.views) == [0, 1, 2, 0, 1, *RESERVED_CALIBRATION_VIEWS]
    assert len(list(cache.glob("*.npz"))) == 1

    def no_inference(*_args: object) -> None:
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(Backbone, "run", no_inference)
    again = extract(samples, DEFAULT_ARTIFACTS_DIR, cache, threads=1)
    assert np.array_equal(first.features, again.features)


def test_a_feature_table_round_trips_byte_for_byte(tmp_path):
    table = synthetic_table()
    table.save(tmp_path / "a.npz")
    table.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = FeatureTable.load(tmp_path / "a.npz")
    assert np.array_equal(loaded.features, table.features)
    assert list(loaded.splits) == list(table.splits)


def test_feature_tables_are_stored_with_bzip2_the_committed_one_too(tmp_path):
    synthetic_table().save(tmp_path / "a.npz")
    for path in (tmp_path / "a.npz", DEFAULT_ARTIFACTS_DIR / FEATURES_FILE):
        with zipfile.ZipFile(path) as archive:
            assert {member.compress_type for member in archive.infolist()} == {zipfile.ZIP_BZIP2}


def _fit(table: FeatureTable):
    return fit_head(Rows.of(table.split("train")), Rows.of(table.split("calibration")), neutral_layer(), 0.9)


def test_fitting_is_deterministic_and_yields_a_usable_calibrated_head():
    table = synthetic_table()
    head, again = _fit(table), _fit(table)
    assert np.array_equal(head.weights, again.weights)
    assert (head.temperature, head.threshold) == (again.temperature, again.threshold)
    assert head.classes == HEAD_CLASSES
    assert head.temperature > 0.0
    assert 0.5 <= head.threshold <= 0.99
    assert head.not_waste_ceiling >= 0.5
    assert (head.expert_answer >= EXPERT_ANSWER_FLOOR).all()
    assert ((EXPERT_VETO_RANGE[0] <= head.expert_veto) & (head.expert_veto <= EXPERT_VETO_RANGE[1])).all()
    assert (head.expert_veto < head.expert_answer).all()
    assert head.provenance["calibration_answered_accuracy"] >= 0.9
    test = table.split("test")
    accuracy = (head.probabilities(test.features).argmax(axis=1) == test.labels).mean()
    assert accuracy > 0.6


def test_fitting_refuses_rows_missing_a_class():
    table = synthetic_table()
    partial = table.where(table.labels != HEAD_CLASSES.index("trash"))
    with pytest.raises(ValueError, match="no trash photos"):
        _fit(partial)


def test_samples_are_split_by_key(tmp_path: Path):
    assert Sample(tmp_path / "x.jpg", 0, "train").key == "cardboard/x.jpg"


def test_rows_as_shot_and_composites_give_a_board_head_fitted_on_the_photos_as_shot():
    table = synthetic_table()
    head = fit_head(Rows.training(table), Rows.of(table.split("calibration")), neutral_layer(), 0.9)
    assert head.board is not None
    assert head.router_weights is not None
    as_shot = table.split("train", runtime_view_only=True)
    assert np.allclose(head.board.feature_mean, as_shot.features.astype(np.float64).mean(axis=0))
    assert 0.5 <= head.board.threshold <= 0.99
    assert 0.0 <= head.provenance["router_calibration_accuracy"] <= 1.0


def test_rows_of_one_kind_only_give_a_single_head():
    table = synthetic_table()
    as_shot = table.where(table.views == 0)
    head = fit_head(
        Rows.of(as_shot.split("train")), Rows.of(as_shot.split("calibration")), neutral_layer(), 0.9
    )
    assert head.board is None
    assert not head.board_like(as_shot.features).any()


def test_a_table_stores_each_tails_features_once(tmp_path):
    table = synthetic_table()
    table.save(tmp_path / "single.npz")  # a single-tail backbone: one column serves both
    with np.load(tmp_path / "single.npz") as stored:
        assert "imagenet_features" not in stored.files
    single = FeatureTable.load(tmp_path / "single.npz")
    assert np.array_equal(single.imagenet_features, single.features)

    # A fine-tuned backbone: the head reads the ImageNet tail's features, then the fine-tuned tail's.
    fine_tuned = (table.features * 2).astype(np.float16)
    two_tails = replace(table, features=np.hstack([table.features, fine_tuned]))
    two_tails.save(tmp_path / "two.npz")
    with np.load(tmp_path / "two.npz") as stored:
        assert sorted(stored.files) == sorted(
            ["keys", "labels", "splits", "views", "held_out", "imagenet_features", "fine_tuned_features"]
        )
        assert np.array_equal(stored["fine_tuned_features"], fine_tuned)
    loaded = FeatureTable.load(tmp_path / "two.npz")
    assert np.array_equal(loaded.features, two_tails.features)
    assert np.array_equal(loaded.imagenet_features, table.features)
    assert np.array_equal(loaded.split("test").imagenet_features, table.split("test").features)


def test_head_features_that_do_not_start_with_the_imagenet_tails_are_not_stored(tmp_path):
    table = synthetic_table()
    other = replace(table, features=np.hstack([table.features * 2, table.features]).astype(np.float16))
    with pytest.raises(ValueError, match="must start with the ImageNet tail's"):
        other.save(tmp_path / "other.npz")
    assert not (tmp_path / "other.npz").exists()


def test_calibration_rows_without_imagenet_features_are_refused():
    table = synthetic_table()
    calibration = replace(Rows.of(table.split("calibration")), imagenet_features=None)
    with pytest.raises(ValueError, match="no ImageNet-layer features"):
        fit_head(Rows.training(table), calibration, neutral_layer(), 0.9)


def test_the_imagenet_gates_read_the_imagenet_tails_features_not_the_heads():
    # Features the head reads are zero; the ImageNet tail's put all mass on a dog (not waste): refused.
    table = synthetic_table()
    dog = 207
    layer = neutral_layer()
    weights = np.zeros_like(layer.weights)
    weights[0, dog] = 100.0
    imagenet = np.zeros((1, weights.shape[0]))
    imagenet[0, 0] = 1.0
    head = fit_head(Rows.training(table), Rows.of(table.split("calibration")), layer, 0.9)
    (verdict,) = verdicts_for(head, ImageNetLayer(weights, layer.bias), np.zeros_like(imagenet), imagenet)
    assert verdict.abstention is Abstention.NOT_WASTE
