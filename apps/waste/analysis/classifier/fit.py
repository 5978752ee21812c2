"""Fit and calibrate the head from stored features (numpy only): the one procedure behind the committed head
(``python -m tools.classifier train``) and behind ``ecoeco classifier retrain`` (the same rows plus the
features of scans users confirmed).

A second, "board" head is fitted the same way on the photos as shot only, with a logistic router that
sends board-like photos to it (``Head.board``).

Training rows: standardisation, class-balanced softmax regression with an L2 penalty, principal subspace.
Calibration rows (``FeatureTable.calibration_rows``: TrashNet's calibration photos as shot, their composites
on the reserved backgrounds, the calibration drawings): the L2 strength (lowest NLL
after temperature scaling), the temperature, the abstention ceilings, each expert's answer and veto levels,
and the answer threshold. The fixed test split is never seen here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from apps.waste.analysis.classifier.calibration import (
    Array,
    Labels,
    choose_threshold,
    fit_softmax_regression,
    fit_temperature,
    negative_log_likelihood,
    principal_basis,
    principal_residual,
    softmax,
)
from apps.waste.analysis.classifier.decision import CLASS_CATEGORY, HEAD_CLASSES, judge
from apps.waste.analysis.classifier.feature_table import RUNTIME_VIEW, FeatureTable, ImageNetLayer
from apps.waste.analysis.classifier.head import Head
from apps.waste.analysis.classifier.imagenet_map import EXPERT_CATEGORIES, expert_masses, not_waste_mass

L2_GRID = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
# A photo as shot counts as much as this many composites of it (composites carry matting noise).
AS_SHOT_WEIGHT = 2.0
SUBSPACE_DIMENSIONS = 64
DEFAULT_TARGET_ACCURACY = 0.93
# Share of in-domain calibration photos each abstention check may wrongly turn away.
RESIDUAL_QUANTILE = 0.99
NOT_WASTE_QUANTILE = 0.995
MIN_NOT_WASTE_CEILING = 0.5
EXPERT_VETO_QUANTILE = 0.995
EXPERT_VETO_RANGE = (0.1, 0.5)
# An expert answers only from a majority of ImageNet's mass, and above every calibration photo's mass.
EXPERT_ANSWER_FLOOR = 0.5
EXPERT_ANSWER_MARGIN = 0.01
# L2 strength of the board-vs-scene router (logistic regression on the head's standardised features).
ROUTER_L2 = 1e-2


@dataclass(frozen=True)
class Rows:
    """Labelled features (``labels`` index ``HEAD_CLASSES``) with a weight per row; ``as_shot`` marks
    TrashNet photos as shot (one object on a plain board), the rows the board head learns from.
    ``imagenet_features`` (the ImageNet layer's input) are needed on calibration rows only; training rows
    such as users' scans, which keep only the head's features, have none."""

    features: Array
    labels: Labels
    weights: Array
    as_shot: npt.NDArray[np.bool_]
    imagenet_features: Array | None = None

    @classmethod
    def of(cls, table: FeatureTable, weight: float = 1.0) -> Rows:
        return cls(
            table.features.astype(np.float64),
            table.labels,
            np.full(len(table), weight),
            table.views == RUNTIME_VIEW,
            table.imagenet_features.astype(np.float64),
        )

    def where(self, mask: npt.NDArray[np.bool_]) -> Rows:
        imagenet = None if self.imagenet_features is None else self.imagenet_features[mask]
        return Rows(self.features[mask], self.labels[mask], self.weights[mask], self.as_shot[mask], imagenet)

    @classmethod
    def training(cls, table: FeatureTable) -> Rows:
        """The train split: photos as shot weigh ``AS_SHOT_WEIGHT`` composites (which are noisier)."""
        train = table.split("train")
        as_shot = train.views == RUNTIME_VIEW
        weights = np.where(as_shot, AS_SHOT_WEIGHT, 1.0)
        return cls(train.features.astype(np.float64), train.labels, weights, as_shot)

    @classmethod
    def concatenate(cls, parts: list[Rows]) -> Rows:
        return cls(
            np.concatenate([part.features for part in parts]),
            np.concatenate([part.labels for part in parts]),
            np.concatenate([part.weights for part in parts]),
            np.concatenate([part.as_shot for part in parts]),
        )


def _quantile(values: Array, quantile: float) -> float:
    return float(np.quantile(values, quantile, method="higher"))


def _experts(masses: Array, truth: list[str]) -> tuple[Array, Array]:
    """(answer levels, veto levels) per expert category from the masses of the calibration rows of *other*
    categories (a drawn shirt is a positive for the textile expert, not a false alarm)."""
    low, high = EXPERT_VETO_RANGE
    answer, veto = [], []
    for column, category in zip(masses.T, EXPERT_CATEGORIES, strict=True):
        negatives = column[np.array([expected != category for expected in truth])]
        veto.append(np.clip(_quantile(negatives, EXPERT_VETO_QUANTILE), low, high))
        answer.append(min(1.0, max(EXPERT_ANSWER_FLOOR, float(negatives.max()) + EXPERT_ANSWER_MARGIN)))
    return np.array(answer), np.array(veto)


def fit_head(
    train: Rows,
    calibration: Rows,
    layer: ImageNetLayer,
    target_accuracy: float = DEFAULT_TARGET_ACCURACY,
    provenance: dict[str, Any] | None = None,
) -> Head:
    """The head on every row, plus (when the rows hold photos as shot and others) a board head fitted and
    calibrated on the photos as shot only, and the router between them."""
    head = _fit_one(train, calibration, layer, target_accuracy, provenance)
    if not (train.as_shot.any() and (~train.as_shot).any() and calibration.as_shot.any()):
        return head
    board = _fit_one(
        train.where(train.as_shot), calibration.where(calibration.as_shot), layer, target_accuracy
    )
    weights, bias = fit_softmax_regression(
        head.standardise(train.features), train.as_shot.astype(np.int64), 2, ROUTER_L2
    )
    routed = replace(
        head, board=board, router_weights=weights[:, 1] - weights[:, 0], router_bias=float(bias[1] - bias[0])
    )
    details = {
        **head.provenance,
        "board_threshold": board.threshold,
        "board_temperature": board.temperature,
        "router_calibration_accuracy": float(
            (routed.board_like(calibration.features) == calibration.as_shot).mean()
        ),
    }
    return replace(routed, provenance=details)


def _fit_one(
    train: Rows,
    calibration: Rows,
    layer: ImageNetLayer,
    target_accuracy: float,
    provenance: dict[str, Any] | None = None,
) -> Head:
    classes = len(HEAD_CLASSES)
    for name, counts in (("training", train.labels), ("calibration", calibration.labels)):
        missing = [HEAD_CLASSES[i] for i in np.flatnonzero(np.bincount(counts, minlength=classes) == 0)]
        if missing:
            raise ValueError(f"the {name} rows have no {', '.join(missing)} photos")
    mean = train.features.mean(axis=0)
    scale = train.features.std(axis=0) + 1e-6
    standard_train = (train.features - mean) / scale
    weighted_counts = np.bincount(train.labels, weights=train.weights, minlength=classes)
    balance = train.weights / weighted_counts[train.labels]

    calibration_x = (calibration.features - mean) / scale
    best: tuple[float, float, float, Array, Array] | None = None
    for l2 in L2_GRID:
        weights, bias = fit_softmax_regression(standard_train, train.labels, classes, l2, balance)
        logits = calibration_x @ weights + bias
        temperature = fit_temperature(logits, calibration.labels)
        nll = negative_log_likelihood(logits, calibration.labels, temperature)
        if best is None or nll < best[0]:
            best = (nll, l2, temperature, weights, bias)
    assert best is not None
    nll, l2, temperature, weights, bias = best
    logits = calibration_x @ weights + bias

    basis = principal_basis(standard_train, min(SUBSPACE_DIMENSIONS, standard_train.shape[1] // 2))
    if calibration.imagenet_features is None:
        raise ValueError("the calibration rows carry no ImageNet-layer features")
    imagenet_logits = layer.logits(calibration.imagenet_features)
    imagenet = softmax(imagenet_logits)
    truth = [CLASS_CATEGORY[HEAD_CLASSES[label]] for label in calibration.labels]
    expert_answer, expert_veto = _experts(expert_masses(imagenet), truth)
    provisional = Head(
        classes=HEAD_CLASSES,
        feature_mean=mean,
        feature_scale=scale,
        weights=weights,
        bias=bias,
        temperature=temperature,
        basis=basis,
        residual_ceiling=_quantile(principal_residual(calibration_x, basis), RESIDUAL_QUANTILE),
        not_waste_ceiling=max(MIN_NOT_WASTE_CEILING, _quantile(not_waste_mass(imagenet), NOT_WASTE_QUANTILE)),
        expert_categories=EXPERT_CATEGORIES,
        expert_answer=expert_answer,
        expert_veto=expert_veto,
        threshold=0.0,
    )
    verdicts = judge(provisional, imagenet_logits, calibration.features, threshold=0.0)
    passed = [i for i, verdict in enumerate(verdicts) if verdict.confident]
    confidences = np.array([verdicts[i].confidence for i in passed])
    correct = np.array([verdicts[i].category == truth[i] for i in passed])
    chosen = choose_threshold(confidences, correct, target_accuracy)
    details: dict[str, Any] = {
        **(provenance or {}),
        "train_rows": len(train.labels),
        "calibration_rows": len(calibration.labels),
        "l2": l2,
        "calibration_nll_uncalibrated": negative_log_likelihood(logits, calibration.labels),
        "calibration_nll": nll,
        "calibration_accuracy": float((logits.argmax(axis=1) == calibration.labels).mean()),
        "target_answered_accuracy": target_accuracy,
        "calibration_coverage_at_threshold": chosen.coverage * len(passed) / len(verdicts),
        "calibration_answered_accuracy": chosen.answered_accuracy,
    }
    return replace(provisional, threshold=chosen.threshold, provenance=details)
