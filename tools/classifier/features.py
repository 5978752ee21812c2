"""Backbone features of every TrashNet photo and its composites, via onnxruntime (no torch), cached on disk.

Views per photo (all deterministic, seeded by the photo's key):

- 0: the runtime transform of the photo as shot (every split);
- train split: 1 = the object alone on a training background, 2 = a small pile of 2–3 objects of the same
  class (the others drawn from the same split) on a training background;
- calibration split: 1 = a single object or a pile on a training background;
- test split: 1 = a single object or a pile on a **held-out** background family (``held_out`` true): the
  out-of-domain evaluation rows, never used to fit or calibrate anything;
- calibration split, ``RESERVED_CALIBRATION_VIEWS`` (20, 21): the object alone or piled on the reserved
  background families, which neither training nor the evaluation uses (the rows the levels are fitted on,
  in place of view 1: ``FeatureTable.calibration_rows``).

A photo whose object cannot be matted cleanly gets the photographic augmentation of the plain photo instead.
The cache (``.local/classifier-features``, outside git) is keyed by the model checksum, the views version and
the photo list.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from apps.waste.analysis.classifier.artifacts import backbone_sha256
from apps.waste.analysis.classifier.backbone import Backbone
from apps.waste.analysis.classifier.decision import HEAD_CLASSES
from apps.waste.analysis.classifier.feature_table import RESERVED_CALIBRATION_VIEWS, FeatureTable
from apps.waste.analysis.classifier.preprocessing import FloatArray, preprocess
from tools.classifier.backgrounds import RESERVED_FAMILIES, Generator, background
from tools.classifier.composite import Cutout, compose, matte, photographic, seeded
from tools.classifier.dataset import Sample
from tools.classifier.renders import carton, shirt

DEFAULT_CACHE_DIR = Path(".local/classifier-features")
VIEWS_VERSION = "runtime+composites+reserved/v3"
BATCH = 16


def _cache_key(samples: list[Sample], artifacts_dir: Path) -> str:
    model_sha = backbone_sha256(artifacts_dir)
    listing = [(sample.key, sample.path.stat().st_size) for sample in samples]
    payload = json.dumps([model_sha, VIEWS_VERSION, listing]).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()[:20]


ViewMaker = Callable[
    [Sample, Image.Image, dict[str, Cutout | None], list[str]], Iterator[tuple[int, bool, Image.Image]]
]


def table_views(
    sample: Sample, photo: Image.Image, cutouts: dict[str, Cutout | None], peers: list[str]
) -> Iterator[tuple[int, bool, Image.Image]]:
    """(view number, held out, image) for one photo; ``peers`` are other keys of its class and split."""
    yield 0, False, photo
    count = {"train": 2, "calibration": 1, "test": 1}[sample.split]
    for view in range(1, count + 1):
        rng = seeded(sample.key, view)
        held_out = sample.split == "test"
        pile = view == 2 or (sample.split != "train" and rng.random() < 0.4)
        yield view, held_out, _composite(sample.key, photo, cutouts, peers, rng, pile, held_out)


def reserved_calibration_views(
    sample: Sample, photo: Image.Image, cutouts: dict[str, Cutout | None], peers: list[str]
) -> Iterator[tuple[int, bool, Image.Image]]:
    """Composites of a *calibration* photo on ``RESERVED_FAMILIES`` (alone or piled, as the table's
    calibration composites): rows to calibrate a fine-tuned tail on backgrounds it never trained on."""
    if sample.split != "calibration":
        return
    for view in RESERVED_CALIBRATION_VIEWS:
        rng = seeded(sample.key, view)
        pile = rng.random() < 0.4
        yield (
            view,
            False,
            _composite(sample.key, photo, cutouts, peers, rng, pile, families=RESERVED_FAMILIES),
        )


def all_views(
    sample: Sample, photo: Image.Image, cutouts: dict[str, Cutout | None], peers: list[str]
) -> Iterator[tuple[int, bool, Image.Image]]:
    """The table's views of a photo, then its reserved-background composites (calibration photos only)."""
    yield from table_views(sample, photo, cutouts, peers)
    yield from reserved_calibration_views(sample, photo, cutouts, peers)


def _composite(
    key: str,
    photo: Image.Image,
    cutouts: dict[str, Cutout | None],
    peers: list[str],
    rng: np.random.Generator,
    pile: bool,
    held_out: bool = False,
    families: dict[str, Generator] | None = None,
) -> Image.Image:
    """Photo ``key``'s object alone or piled with 1–2 ``peers`` on a background (the photo itself with
    photographic noise when it did not matte)."""
    own = cutouts[key]
    if own is None:
        return photographic(photo, rng)
    group = [own]
    if pile and peers:
        picks = rng.choice(len(peers), size=min(len(peers), int(rng.integers(1, 3))), replace=False)
        group += [cutout for index in picks if (cutout := cutouts[peers[int(index)]]) is not None]
    return compose(group, rng, held_out, families)


RENDERS_VERSION = "shirts+cartons/v1"
RENDERED_PER_SPLIT = {"train": 150, "calibration": 50}


def rendered_images() -> Iterator[tuple[str, int, str, Image.Image]]:
    """(key, head class, split, image) of the drawn shirts and cartons on training backgrounds.

    Seeds differ from the evaluation's drawings (``evaluate`` uses held-out backgrounds)."""
    for name, draw in (("textile", shirt), ("paper_pack", carton)):
        for split, count in RENDERED_PER_SPLIT.items():
            for index in range(count):
                rng = seeded(f"{name}/{split}{index}", 0)
                yield (
                    f"{name}/render-{split}{index}",
                    HEAD_CLASSES.index(name),
                    split,
                    draw(rng, background(rng, 300)),
                )


Row = tuple[str, int, str, int, bool]
"""One row of a feature table or activation cache: key, label, split, view, held out."""


def row_columns(rows: Sequence[Row]) -> dict[str, np.ndarray]:
    """The columns of ``rows`` as a table stores them (everything but the features)."""
    return {
        "keys": np.array([row[0] for row in rows]),
        "labels": np.array([row[1] for row in rows], np.int64),
        "splits": np.array([row[2] for row in rows]),
        "views": np.array([row[3] for row in rows], np.int64),
        "held_out": np.array([row[4] for row in rows], bool),
    }


def rendered(artifacts_dir: Path, threads: int = 2) -> FeatureTable:
    """The drawings' features, labelled with the head's rendered classes."""
    rows: list[Row] = []
    tensors: list[FloatArray] = []
    for key, label, split, image in rendered_images():
        rows.append((key, label, split, 0, False))
        tensors.append(preprocess(image))
    return _table(rows, Backbone(artifacts_dir, intra_op_threads=threads), tensors)


def _table(rows: list[Row], backbone: Backbone, tensors: Iterable[FloatArray]) -> FeatureTable:
    """The table of ``rows`` (key, label, split, view, held out), one preprocessed image each, run in
    batches (consumed lazily: an iterator's images are produced as it goes)."""
    head_features: list[np.ndarray] = []
    imagenet_features: list[np.ndarray] = []
    iterator = iter(tensors)
    while batch := list(itertools.islice(iterator, BATCH)):
        outputs = backbone.run(np.concatenate(batch))
        head_features.append(outputs.features.astype(np.float16))
        imagenet_features.append(outputs.imagenet_features.astype(np.float16))
    return FeatureTable(
        **row_columns(rows),
        features=np.concatenate(head_features),
        imagenet_features=np.concatenate(imagenet_features),
    )


def photo_views(samples: list[Sample], make: ViewMaker) -> Iterator[tuple[Sample, int, bool, Image.Image]]:
    """Every (photo, view number, held out, image) ``make`` draws, one class in memory at a time."""
    started = time.monotonic()
    for label in sorted({sample.label for sample in samples}):
        members = [sample for sample in samples if sample.label == label]
        photos = {sample.key: Image.open(sample.path).convert("RGB") for sample in members}
        cutouts = {key: matte(photo) for key, photo in photos.items()}
        for sample in members:
            peers = [
                other.key for other in members if other.split == sample.split and other.key != sample.key
            ]
            for view, held_out, image in make(sample, photos[sample.key], cutouts, peers):
                yield sample, view, held_out, image
        matted = sum(cutout is not None for cutout in cutouts.values())
        print(
            f"  class {label}: {len(members)} photos ({matted} matted), {time.monotonic() - started:.0f}s",
            flush=True,
        )


def extract(
    samples: list[Sample], artifacts_dir: Path, cache_dir: Path = DEFAULT_CACHE_DIR, threads: int = 2
) -> FeatureTable:
    cache_path = cache_dir / f"trashnet-{_cache_key(samples, artifacts_dir)}.npz"
    if cache_path.exists():
        return FeatureTable.load(cache_path)

    rows: list[Row] = []

    def tensors() -> Iterator[FloatArray]:
        for sample, view, held_out, image in photo_views(samples, all_views):
            rows.append((sample.key, sample.label, sample.split, view, held_out))
            yield preprocess(image)

    table = _table(rows, Backbone(artifacts_dir, intra_op_threads=threads), tensors())
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cache_path.with_suffix(".partial.npz")
    table.save(partial)
    partial.replace(cache_path)
    return table
