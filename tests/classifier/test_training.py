"""Feature extraction with its cache, and the training procedure, without TrashNet."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from apps.waste.analysis.classifier.artifacts import DEFAULT_ARTIFACTS_DIR
from apps.waste.analysis.classifier.backbone import Backbone
from apps.waste.analysis.classifier.dataset import TRASHNET_CLASSES, Sample, Split
from apps.waste.analysis.classifier.features import FeatureSet, extract
from apps.waste.analysis.classifier.train import train

from .test_head_and_decision import ASHCAN


def test_extract_runs_the_backbone_once_then_serves_the_cache(tmp_path, monkeypatch):
    paths = []
    for index, colour in enumerate([(200, 30, 30), (30, 200, 30), (30, 30, 200)]):
        path = tmp_path / f"photo{index}.jpg"
        Image.new("RGB", (320, 240), colour).save(path)
        paths.append(path)
    samples = [Sample(path, label, "train") for label, path in enumerate(paths)]
    cache = tmp_path / "cache"
    first = extract(samples, DEFAULT_ARTIFACTS_DIR, cache, threads=1)
    assert first.features.shape == (3, 4, 1280)
    assert first.logits.shape == (3, 4, 1000)
    assert len(list(cache.glob("*.npz"))) == 1

    def no_inference(*_args: object) -> None:
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(Backbone, "run", no_inference)
    again = extract(samples, DEFAULT_ARTIFACTS_DIR, cache, threads=1)
    assert np.array_equal(first.features, again.features)


def _synthetic_features(seed: int = 0, per_class_split: int = 12, dim: int = 16) -> FeatureSet:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 0.7, size=(len(TRASHNET_CLASSES), dim))  # overlapping classes
    samples, features = [], []
    splits: tuple[Split, ...] = ("train", "calibration", "test")
    for split in splits:
        for label in range(len(TRASHNET_CLASSES)):
            for index in range(per_class_split):
                samples.append(Sample(Path(f"{split}{label}_{index}.jpg"), label, split))
                features.append(centres[label] + rng.normal(0.0, 1.0, size=(2, dim)))
    logits = np.zeros((len(samples), 2, 1000), dtype=np.float32)
    logits[:, :, ASHCAN] = 12.0
    return FeatureSet(samples, np.array(features, dtype=np.float32), logits)


def test_training_is_deterministic_and_yields_a_usable_calibrated_head():
    features = _synthetic_features()
    head = train(features, target_accuracy=0.9)
    again = train(features, target_accuracy=0.9)
    assert np.array_equal(head.weights, again.weights)
    assert (head.temperature, head.threshold) == (again.temperature, again.threshold)
    assert head.classes == TRASHNET_CLASSES
    assert head.temperature > 0.0
    assert 0.5 <= head.threshold <= 0.99
    assert head.not_waste_ceiling >= 0.5
    assert head.unseen_ceiling >= 0.5
    assert head.provenance["calibration_answered_accuracy"] >= 0.9
    test = features.subset("test")
    accuracy = (head.probabilities(test.features[:, 0]).argmax(axis=1) == test.labels()).mean()
    assert accuracy > 0.6


def test_training_refuses_a_data_set_missing_a_class():
    features = _synthetic_features()
    keep = [i for i, sample in enumerate(features.samples) if sample.label != 5]
    partial = FeatureSet([features.samples[i] for i in keep], features.features[keep], features.logits[keep])
    with pytest.raises(SystemExit, match="'trash' has 0 training"):
        train(partial, target_accuracy=0.9)
