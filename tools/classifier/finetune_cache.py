"""Frozen-trunk activations of augmented TrashNet views, cached once for fine-tuning the tail (train venv).

    .venv-train/bin/python -m tools.classifier.finetune_cache --data ../shared/data/trashnet

Rows: every view of the feature table (``features.all_views``: train, calibration and the test split's
photos and held-out composites, and two composites of every calibration photo on the reserved background
families, with the same seeds, so the fine-tuned tail can be scored on exactly the rows ``train`` and the
evaluation use), ``EXTRA_VIEWS`` more augmented views of every *training* photo, and
the drawn shirts and cartons. Extra views use training background families only: a random crop of the photo as
shot with photographic noise, and composites (alone or piled, scaled, rotated, re-lit, blurred, colour-cast,
JPEG'd) cropped at random. The trunk runs through onnxruntime from a trunk-only ONNX export (torch is only
needed to write that file). Activations ``[208, 9, 9]`` are stored as float16 under ``.local/finetune/``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import torch
from PIL import Image

from apps.waste.analysis.classifier.preprocessing import INPUT_SIZE, FloatArray, preprocess
from tools.classifier.composite import Cutout, compose, photographic, seeded
from tools.classifier.dataset import Sample, load_trashnet
from tools.classifier.features import (
    BATCH,
    Row,
    all_views,
    photo_views,
    rendered_images,
    row_columns,
)
from tools.classifier.network import Trunk, pretrained

DEFAULT_DIR = Path(".local/finetune")
EXTRA_VIEWS = 4
FIRST_EXTRA_VIEW = 10  # view numbers of the extra training views: 10, 11, …
MIN_CROP = 0.7


def _crop(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A random window covering ``MIN_CROP``–100 % of each side."""
    share = float(rng.uniform(MIN_CROP, 1.0))
    width, height = max(1, int(image.width * share)), max(1, int(image.height * share))
    left = int(rng.integers(0, image.width - width + 1))
    top = int(rng.integers(0, image.height - height + 1))
    return image.crop((left, top, left + width, top + height))


def training_views(
    sample: Sample, photo: Image.Image, cutouts: dict[str, Cutout | None], peers: list[str]
) -> Iterator[tuple[int, bool, Image.Image]]:
    """The table's views of every photo, the reserved-background composites of each calibration photo, and
    ``EXTRA_VIEWS`` augmented ones of each training photo."""
    yield from all_views(sample, photo, cutouts, peers)
    if sample.split != "train":
        return
    own = cutouts[sample.key]
    for view in range(FIRST_EXTRA_VIEW, FIRST_EXTRA_VIEW + EXTRA_VIEWS):
        rng = seeded(sample.key, view)
        if own is None or view == FIRST_EXTRA_VIEW:
            yield view, False, photographic(_crop(photo, rng), rng)
            continue
        group = [own]
        if rng.random() < 0.4 and peers:
            picks = rng.choice(len(peers), size=min(len(peers), int(rng.integers(1, 4))), replace=False)
            group += [cutout for index in picks if (cutout := cutouts[peers[int(index)]]) is not None]
        yield view, False, _crop(compose(group, rng), rng)


def export_trunk(path: Path) -> None:
    trunk = Trunk(pretrained()).eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        trunk,
        (torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE),),
        str(path),
        dynamo=False,
        external_data=False,
        opset_version=17,
        input_names=["image"],
        output_names=["trunk"],
        dynamic_axes={"image": {0: "batch"}, "trunk": {0: "batch"}},
    )


def build(data: Path, out_dir: Path, threads: int) -> Path:
    trunk_path = out_dir / "trunk.onnx"
    if not trunk_path.exists():
        export_trunk(trunk_path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(trunk_path), sess_options=options, providers=["CPUExecutionProvider"])
    rows: list[Row] = []
    pending: list[FloatArray] = []
    activations: list[np.ndarray] = []

    def flush() -> None:
        if pending:
            activations.append(session.run(None, {"image": np.concatenate(pending)})[0].astype(np.float16))
            pending.clear()

    started = time.monotonic()
    for sample, view, held_out, image in photo_views(load_trashnet(data), training_views):
        rows.append((sample.key, sample.label, sample.split, view, held_out))
        pending.append(preprocess(image))
        if len(pending) >= BATCH:
            flush()
    for key, label, split, image in rendered_images():
        rows.append((key, label, split, 0, False))
        pending.append(preprocess(image))
        if len(pending) >= BATCH:
            flush()
    flush()
    target = out_dir / "activations.npz"
    arrays: dict[str, Any] = {**row_columns(rows), "activations": np.concatenate(activations)}
    np.savez(target, **arrays)
    print(f"wrote {target}: {len(rows)} rows in {time.monotonic() - started:.0f}s")
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="TrashNet root (<class>/*.jpg)")
    parser.add_argument("--out", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    build(args.data, args.out, args.threads)


if __name__ == "__main__":
    main()
