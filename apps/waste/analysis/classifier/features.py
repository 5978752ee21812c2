"""Backbone outputs for every TrashNet photo, computed with onnxruntime (no torch) and cached on disk.

The cache lives outside git (default ``.local/classifier-features``) and is keyed by the model checksum,
the augmentation version and the photo list, so a changed model or data set is never served stale features.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from apps.waste.analysis.classifier.artifacts import DEFAULT_ARTIFACTS_DIR, MODEL_FILE, load_manifest
from apps.waste.analysis.classifier.backbone import Backbone
from apps.waste.analysis.classifier.dataset import Sample
from apps.waste.analysis.classifier.preprocessing import FloatArray, augmented_views

DEFAULT_CACHE_DIR = Path(".local/classifier-features")
VIEWS_VERSION = "centre+mirror+tight0.8+tightflip/v1"
PHOTOS_PER_BATCH = 8


@dataclass(frozen=True)
class FeatureSet:
    """``features[i, v]`` / ``logits[i, v]`` are the backbone outputs of view ``v`` of ``samples[i]``.

    View 0 is exactly the runtime transform; the others are training-time augmentations.
    """

    samples: list[Sample]
    features: FloatArray
    logits: FloatArray

    def labels(self) -> np.ndarray:
        return np.array([sample.label for sample in self.samples], dtype=np.int64)

    def subset(self, split: str) -> FeatureSet:
        index = [i for i, sample in enumerate(self.samples) if sample.split == split]
        return FeatureSet([self.samples[i] for i in index], self.features[index], self.logits[index])


def _cache_key(samples: list[Sample], artifacts_dir: Path) -> str:
    model_sha = load_manifest(artifacts_dir)["files"][MODEL_FILE]["sha256"]
    listing = [(sample.key, sample.path.stat().st_size) for sample in samples]
    payload = json.dumps([model_sha, VIEWS_VERSION, listing]).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()[:20]


def extract(
    samples: list[Sample], artifacts_dir: Path, cache_dir: Path = DEFAULT_CACHE_DIR, threads: int = 2
) -> FeatureSet:
    cache_path = cache_dir / f"trashnet-{_cache_key(samples, artifacts_dir)}.npz"
    if cache_path.exists():
        cached = np.load(cache_path)
        return FeatureSet(samples, cached["features"], cached["logits"])

    backbone = Backbone(artifacts_dir, intra_op_threads=threads)
    features: list[FloatArray] = []
    logits: list[FloatArray] = []
    started = time.monotonic()
    for start in range(0, len(samples), PHOTOS_PER_BATCH):
        chunk = samples[start : start + PHOTOS_PER_BATCH]
        views: list[FloatArray] = []
        for sample in chunk:
            with Image.open(sample.path) as photo:
                views.extend(augmented_views(photo.convert("RGB")))
        batch_logits, batch_features = backbone.run(np.stack(views))
        per_photo = len(views) // len(chunk)
        features.append(batch_features.reshape(len(chunk), per_photo, -1))
        logits.append(batch_logits.reshape(len(chunk), per_photo, -1))
        done = start + len(chunk)
        if done % 200 < PHOTOS_PER_BATCH:
            print(f"  features: {done}/{len(samples)} photos, {time.monotonic() - started:.0f}s", flush=True)

    result = FeatureSet(samples, np.concatenate(features), np.concatenate(logits))
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cache_path.with_suffix(".partial.npz")
    np.savez(partial, features=result.features, logits=result.logits)
    partial.replace(cache_path)
    return result


def add_feature_arguments(parser: argparse.ArgumentParser) -> None:
    """The options the training and evaluation commands share: data, artifacts, feature cache, threads."""
    parser.add_argument("--data", type=Path, required=True, help="TrashNet root (<class>/*.jpg)")
    parser.add_argument("--artifacts", type=Path, default=DEFAULT_ARTIFACTS_DIR)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE_DIR, help="feature cache (outside git)")
    parser.add_argument("--threads", type=int, default=2)
