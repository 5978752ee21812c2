"""Fit and score heads on the fine-tuned tail's features against the original tail's, before any export.

    python -m tools.classifier.compare_tails [--features .local/finetune/tail-features.npz]

Reads ``finetune``'s ``tail-features.npz`` (every feature-table row through both tails of the torch
network), fits a head on each kind of features exactly as ``train`` does (train rows; levels on calibration
rows only) and scores each on the fixed test split as shot and on the held-out-background composites,
through the API's decision rule. The heads read the original tail's features, the fine-tuned tail's, or
both side by side (``[N, 2560]``, what a graph concatenating the two tails would hand the head).
``--calibration reserved`` calibrates on the calibration photos as shot, the drawings and the composites on
the reserved background families (neither the tail's training nor the evaluation uses them) instead of the
table's calibration composites on training backgrounds. Numpy only: runs in the app venv or the train venv.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from apps.waste.analysis.classifier.artifacts import DEFAULT_ARTIFACTS_DIR
from apps.waste.analysis.classifier.decision import CLASS_CATEGORY, HEAD_CLASSES
from apps.waste.analysis.classifier.feature_table import RESERVED_CALIBRATION_VIEWS, FeatureTable
from apps.waste.analysis.classifier.fit import DEFAULT_TARGET_ACCURACY, Rows, fit_head
from apps.waste.analysis.classifier.head import Head
from apps.waste.analysis.classifier.runtime import load_imagenet_layer
from apps.waste.analysis.classifier.scoring import Score, score_verdicts, verdicts_for

DEFAULT_DIR = Path(".local/finetune")  # finetune_cache's (that module needs torch)
TAILS = ("original tail", "fine-tuned tail", "both tails")
CALIBRATIONS = ("table", "reserved")


def tables(path: Path) -> dict[str, FeatureTable]:
    """The rows with the head reading the original tail's features, the fine-tuned tail's, and both."""
    with np.load(path, allow_pickle=False) as stored:
        columns = {name: stored[name] for name in stored.files}
    meta = {name: columns[name] for name in ("keys", "labels", "splits", "views", "held_out")}
    original, fine_tuned = columns["imagenet"], columns["waste"]
    head_features = (original, fine_tuned, np.hstack([original, fine_tuned]))
    return {
        name: FeatureTable(**meta, features=features, imagenet_features=columns["imagenet"])
        for name, features in zip(TAILS, head_features, strict=True)
    }


def calibration_rows(table: FeatureTable, calibration: str) -> FeatureTable:
    """The calibration split with its composites on training backgrounds (``table``), or those swapped for
    the composites on the reserved families (``reserved``: what ``train`` uses when it has them)."""
    rows = table.split("calibration")
    reserved = np.isin(rows.views, RESERVED_CALIBRATION_VIEWS)
    if calibration == "table":
        return rows.where(~reserved)
    if not reserved.any():
        raise SystemExit("no reserved-background calibration rows: rebuild the cache with finetune_cache")
    return table.calibration_rows()


def scores(head: Head, table: FeatureTable, artifacts: Path) -> dict[str, Score]:
    layer = load_imagenet_layer(artifacts)
    test = table.split("test")
    result = {}
    for name, mask in (("trashnet-test", ~test.held_out), ("composites-held-out", test.held_out)):
        part = test.where(mask)
        truth: list[str | None] = [CLASS_CATEGORY[HEAD_CLASSES[label]] for label in part.labels]
        result[name] = score_verdicts(verdicts_for(head, layer, part.features, part.imagenet_features), truth)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--features", type=Path, default=DEFAULT_DIR / "tail-features.npz")
    parser.add_argument("--artifacts", type=Path, default=DEFAULT_ARTIFACTS_DIR)
    parser.add_argument("--target-accuracy", type=float, default=DEFAULT_TARGET_ACCURACY)
    parser.add_argument("--only", choices=TAILS, help="fit and score one tail's head only")
    parser.add_argument(
        "--calibration", choices=CALIBRATIONS, default="reserved", help="which rows fit the levels"
    )
    args = parser.parse_args(argv)
    artifacts = args.artifacts.resolve()
    for name, table in tables(args.features).items():
        if args.only not in (None, name):
            continue
        fitted = table.where(~table.held_out)
        head = fit_head(
            Rows.training(fitted),
            Rows.of(calibration_rows(fitted, args.calibration)),
            load_imagenet_layer(artifacts),
            args.target_accuracy,
        )
        print(
            f"{name}, {args.calibration} calibration (threshold {head.threshold:.2f}, "
            f"board {head.board.threshold if head.board else 0:.2f}):"
        )
        for set_name, score in scores(head, table, artifacts).items():
            print(f"  {set_name}: {score.summary()}")


if __name__ == "__main__":
    main()
