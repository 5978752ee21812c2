"""Backbone features of every TrashNet photo and its composites, via onnxruntime (no torch), cached on disk.

Views per photo (all deterministic, seeded by the photo's key):

- 0: the runtime transform of the photo as shot (every split);
- train split: 1 = the object alone on a training background, 2 = a small pile of 2–3 objects of the same
  class (the others drawn from the same split) on a training background;
- calibration split: 1 = a single object or a pile on a training background;
- test split: 1 = a single object or a pile on a **held-out** background family (``held_out`` true): the
  out-of-domain evaluation rows, never used to fit or calibrate anything.

A photo whose object cannot be matted cleanly gets the photographic augmentation of the plain photo instead.
The cache (``.local/classifier-features``, outside git) is keyed by the model checksum, the views version and
the photo list.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from apps.waste.analysis.classifier.artifacts import MODEL_FILE, load_manifest
from apps.waste.analysis.classifier.backbone import Backbone
from apps.waste.analysis.classifier.decision import HEAD_CLASSES
from apps.waste.analysis.classifier.feature_table import FeatureTable
from apps.waste.analysis.classifier.preprocessing import FloatArray, preprocess
from tools.classifier.backgrounds import background
from tools.classifier.composite import Cutout, compose, matte, photographic, seeded
from tools.classifier.dataset import Sample
from tools.classifier.renders import carton, shirt

DEFAULT_CACHE_DIR = Path(".local/classifier-features")
VIEWS_VERSION = "runtime+composites/v2"
BATCH = 16


def _cache_key(samples: list[Sample], artifacts_dir: Path) -> str:
    model_sha = load_manifest(artifacts_dir)["files"][MODEL_FILE]["sha256"]
    listing = [(sample.key, sample.path.stat().st_size) for sample in samples]
    payload = json.dumps([model_sha, VIEWS_VERSION, listing]).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()[:20]


def _views(
    sample: Sample, photo: Image.Image, cutouts: dict[str, Cutout | None], peers: list[str]
) -> Iterator[tuple[int, bool, Image.Image]]:
    """(view number, held out, image) for one photo; ``peers`` are other keys of its class and split."""
    yield 0, False, photo
    own = cutouts[sample.key]
    count = {"train": 2, "calibration": 1, "test": 1}[sample.split]
    for view in range(1, count + 1):
        rng = seeded(sample.key, view)
        held_out = sample.split == "test"
        pile = view == 2 or (sample.split != "train" and rng.random() < 0.4)
        if own is None:
            yield view, held_out, photographic(photo, rng)
            continue
        group = [own]
        if pile and peers:
            picks = rng.choice(len(peers), size=min(len(peers), int(rng.integers(1, 3))), replace=False)
            group += [cutout for index in picks if (cutout := cutouts[peers[int(index)]]) is not None]
        yield view, held_out, compose(group, rng, held_out)


RENDERS_VERSION = "shirts+cartons/v1"
RENDERED_PER_SPLIT = {"train": 150, "calibration": 50}


def rendered(artifacts_dir: Path, threads: int = 2) -> FeatureTable:
    """Drawn shirts and cartons on training backgrounds, labelled with the head's rendered classes.

    Seeds differ from the evaluation's drawings (``evaluate`` uses held-out backgrounds)."""
    backbone = Backbone(artifacts_dir, intra_op_threads=threads)
    rows: list[tuple[str, int, str]] = []
    tensors: list[FloatArray] = []
    for name, draw in (("textile", shirt), ("paper_pack", carton)):
        for split, count in RENDERED_PER_SPLIT.items():
            for index in range(count):
                rng = seeded(f"{name}/{split}{index}", 0)
                rows.append((f"{name}/render-{split}{index}", HEAD_CLASSES.index(name), split))
                tensors.append(preprocess(draw(rng, background(rng, 300))))
    features = np.concatenate(
        [backbone.run(np.concatenate(tensors[i : i + BATCH]))[1] for i in range(0, len(tensors), BATCH)]
    )
    return FeatureTable(
        keys=np.array([row[0] for row in rows]),
        labels=np.array([row[1] for row in rows], np.int64),
        splits=np.array([row[2] for row in rows]),
        views=np.zeros(len(rows), np.int64),
        held_out=np.zeros(len(rows), bool),
        features=features.astype(np.float16),
    )


def extract(
    samples: list[Sample], artifacts_dir: Path, cache_dir: Path = DEFAULT_CACHE_DIR, threads: int = 2
) -> FeatureTable:
    cache_path = cache_dir / f"trashnet-{_cache_key(samples, artifacts_dir)}.npz"
    if cache_path.exists():
        return FeatureTable.load(cache_path)

    backbone = Backbone(artifacts_dir, intra_op_threads=threads)
    started = time.monotonic()
    rows: list[tuple[str, int, str, int, bool]] = []
    pending: list[FloatArray] = []
    features: list[np.ndarray] = []

    def flush() -> None:
        if pending:
            _, batch_features = backbone.run(np.concatenate(pending))
            features.append(batch_features.astype(np.float16))
            pending.clear()

    for label in sorted({sample.label for sample in samples}):  # one class in memory at a time
        members = [sample for sample in samples if sample.label == label]
        photos = {sample.key: Image.open(sample.path).convert("RGB") for sample in members}
        cutouts = {key: matte(photo) for key, photo in photos.items()}
        for sample in members:
            peers = [
                other.key for other in members if other.split == sample.split and other.key != sample.key
            ]
            for view, held_out, image in _views(sample, photos[sample.key], cutouts, peers):
                rows.append((sample.key, sample.label, sample.split, view, held_out))
                pending.append(preprocess(image))
            if len(pending) >= BATCH:
                flush()
        matted = sum(cutout is not None for cutout in cutouts.values())
        print(
            f"  class {label}: {len(members)} photos ({matted} matted), {time.monotonic() - started:.0f}s",
            flush=True,
        )
    flush()

    table = FeatureTable(
        keys=np.array([row[0] for row in rows]),
        labels=np.array([row[1] for row in rows], np.int64),
        splits=np.array([row[2] for row in rows]),
        views=np.array([row[3] for row in rows], np.int64),
        held_out=np.array([row[4] for row in rows], bool),
        features=np.concatenate(features),
    )
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cache_path.with_suffix(".partial.npz")
    table.save(partial)
    partial.replace(cache_path)
    return table
