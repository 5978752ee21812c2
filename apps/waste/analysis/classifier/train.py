"""Train and calibrate the embedded classifier's head on TrashNet; writes ``artifacts/head.npz``.

    python -m apps.waste.analysis.classifier.train --data /path/to/trashnet

No torch: features come from the committed ONNX backbone through onnxruntime (cached under ``.local/``).
Train split (60 %, four views per photo: as-is, mirrored, tighter crop, tighter crop flipped):
standardisation, softmax regression (class-balanced, L2), principal subspace. Calibration split (20 %,
runtime view only): the L2 strength (lowest NLL after temperature scaling), the temperature, the abstention
ceilings and the answer threshold. The test split (20 %) is left untouched for ``evaluate``.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

import numpy as np

from apps.waste.analysis.classifier.artifacts import HEAD_FILE, record_artifact
from apps.waste.analysis.classifier.calibration import (
    Array,
    choose_threshold,
    fit_softmax_regression,
    fit_temperature,
    negative_log_likelihood,
    principal_basis,
    principal_residual,
    softmax,
)
from apps.waste.analysis.classifier.dataset import SPLIT_PERCENT, TRASHNET_CLASSES, load_trashnet
from apps.waste.analysis.classifier.decision import CLASS_CATEGORY, judge
from apps.waste.analysis.classifier.features import FeatureSet, add_feature_arguments, extract
from apps.waste.analysis.classifier.head import Head
from apps.waste.analysis.classifier.imagenet_map import not_waste_mass, unseen_category_masses

L2_GRID = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
SUBSPACE_DIMENSIONS = 64
# Share of in-domain calibration photos each abstention check may wrongly turn away.
RESIDUAL_QUANTILE = 0.99
IMAGENET_MASS_QUANTILE = 0.995
# An ImageNet guard never fires below a majority of the probability mass.
MIN_IMAGENET_CEILING = 0.5
DEFAULT_TARGET_ACCURACY = 0.95


def _ceiling(values: Array, quantile: float, minimum: float = 0.0) -> float:
    return max(minimum, float(np.quantile(values, quantile, method="higher")))


def train(features: FeatureSet, target_accuracy: float) -> Head:
    train_set, calibration = features.subset("train"), features.subset("calibration")
    views = train_set.features.shape[1]
    train_x = train_set.features.reshape(-1, train_set.features.shape[-1]).astype(np.float64)
    train_y = np.repeat(train_set.labels(), views)
    mean = train_x.mean(axis=0)
    scale = train_x.std(axis=0) + 1e-6
    standard_train = (train_x - mean) / scale
    class_counts = np.bincount(train_y, minlength=len(TRASHNET_CLASSES))
    held_out = np.bincount(calibration.labels(), minlength=len(TRASHNET_CLASSES))
    for name, in_train, in_calibration in zip(TRASHNET_CLASSES, class_counts, held_out, strict=True):
        if not in_train or not in_calibration:
            raise SystemExit(
                f"class {name!r} has {in_train // views} training and {in_calibration} calibration photos; "
                "both splits need every class (is --data the full TrashNet?)"
            )
    balance = (1.0 / class_counts)[train_y]

    calibration_x = (calibration.features[:, 0].astype(np.float64) - mean) / scale
    calibration_y = calibration.labels()
    best: tuple[float, float, float, Array, Array] | None = None
    for l2 in L2_GRID:
        weights, bias = fit_softmax_regression(standard_train, train_y, len(TRASHNET_CLASSES), l2, balance)
        logits = calibration_x @ weights + bias
        temperature = fit_temperature(logits, calibration_y)
        nll = negative_log_likelihood(logits, calibration_y, temperature)
        print(f"  l2={l2:g}: calibration NLL {nll:.4f} at T={temperature:.3f}")
        if best is None or nll < best[0]:
            best = (nll, l2, temperature, weights, bias)
    assert best is not None
    nll, l2, temperature, weights, bias = best
    logits = calibration_x @ weights + bias

    basis = principal_basis(standard_train, SUBSPACE_DIMENSIONS)
    imagenet = softmax(calibration.logits[:, 0])
    unseen = np.array([max(unseen_category_masses(row).values()) for row in imagenet])
    provisional = Head(
        classes=TRASHNET_CLASSES,
        feature_mean=mean,
        feature_scale=scale,
        weights=weights,
        bias=bias,
        temperature=temperature,
        basis=basis,
        residual_ceiling=_ceiling(principal_residual(calibration_x, basis), RESIDUAL_QUANTILE),
        not_waste_ceiling=_ceiling(not_waste_mass(imagenet), IMAGENET_MASS_QUANTILE, MIN_IMAGENET_CEILING),
        unseen_ceiling=_ceiling(unseen, IMAGENET_MASS_QUANTILE, MIN_IMAGENET_CEILING),
        threshold=0.0,
    )

    verdicts = judge(provisional, calibration.logits[:, 0], calibration.features[:, 0], threshold=0.0)
    passed = [i for i, verdict in enumerate(verdicts) if verdict.confident]
    confidences = np.array([verdicts[i].confidence for i in passed])
    correct = np.array(
        [verdicts[i].category == CLASS_CATEGORY[TRASHNET_CLASSES[calibration_y[i]]] for i in passed]
    )
    chosen = choose_threshold(confidences, correct, target_accuracy)
    provenance: dict[str, Any] = {
        "command": "python -m apps.waste.analysis.classifier.train --data <trashnet>",
        "split_percent": SPLIT_PERCENT,
        "train_photos": len(train_set.samples),
        "train_views_per_photo": views,
        "calibration_photos": len(calibration.samples),
        "l2": l2,
        "calibration_nll_uncalibrated": negative_log_likelihood(logits, calibration_y),
        "calibration_nll": nll,
        "calibration_accuracy": float((logits.argmax(axis=1) == calibration_y).mean()),
        "target_answered_accuracy": target_accuracy,
        "calibration_coverage_at_threshold": chosen.coverage * len(passed) / len(verdicts),
        "calibration_answered_accuracy": chosen.answered_accuracy,
    }
    return replace(provisional, threshold=chosen.threshold, provenance=provenance)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_feature_arguments(parser)
    parser.add_argument(
        "--target-accuracy",
        type=float,
        default=DEFAULT_TARGET_ACCURACY,
        help="answered-share accuracy the threshold must reach on the calibration split",
    )
    args = parser.parse_args()

    samples = load_trashnet(args.data)
    print(f"{len(samples)} photos; extracting features (cached in {args.cache})")
    features = extract(samples, args.artifacts, args.cache, args.threads)
    head = train(features, args.target_accuracy)
    head.save(args.artifacts / HEAD_FILE)
    record_artifact(
        args.artifacts,
        HEAD_FILE,
        produced_by="python -m apps.waste.analysis.classifier.train --data <trashnet>",
        details={
            "temperature": head.temperature,
            "threshold": head.threshold,
            "residual_ceiling": head.residual_ceiling,
            "not_waste_ceiling": head.not_waste_ceiling,
            "unseen_ceiling": head.unseen_ceiling,
        },
    )
    print(
        f"wrote {args.artifacts / HEAD_FILE}: l2={head.provenance['l2']:g}, T={head.temperature:.3f}, "
        f"threshold={head.threshold:.2f}, residual ceiling={head.residual_ceiling:.3f}, "
        f"not-waste ceiling={head.not_waste_ceiling:.3f}, unseen ceiling={head.unseen_ceiling:.3f}"
    )
    for key, value in head.provenance.items():
        print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
