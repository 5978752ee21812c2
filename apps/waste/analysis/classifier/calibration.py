"""Numpy-only learning and calibration math: softmax regression, temperature scaling, ECE, threshold choice.

Everything here is deterministic (full-batch optimisation from zeros, no random state), so re-running the
training script on the same features reproduces the committed head bit for bit on the same platform.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
# Backbone outputs are float32; everything computed here is float64.
FloatInput = npt.NDArray[np.floating[Any]]
Labels = npt.NDArray[np.int64]


def softmax(logits: npt.ArrayLike) -> Array:
    shifted = np.asarray(logits, dtype=np.float64)
    shifted = shifted - shifted.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=-1, keepdims=True), dtype=np.float64)


def negative_log_likelihood(logits: npt.ArrayLike, labels: Labels, temperature: float = 1.0) -> float:
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(scaled).sum(axis=1))
    return float(np.mean(log_norm - scaled[np.arange(len(labels)), labels]))


def fit_softmax_regression(
    features: Array,
    labels: Labels,
    num_classes: int,
    l2: float,
    sample_weights: Array | None = None,
    iterations: int = 600,
) -> tuple[Array, Array]:
    """Multinomial logistic regression, L2 penalty on the weights, by Nesterov-accelerated gradient descent.

    The loss is smooth and strongly convex, so a fixed step of ``1 / L`` (L bounds the gradient's Lipschitz
    constant: half the largest eigenvalue of the weighted feature covariance, plus ``l2``) converges from zero
    without a line search. Returns ``(weights [d, k], bias [k])``.
    """
    count, dim = features.shape
    weights_per_sample = np.ones(count) if sample_weights is None else np.asarray(sample_weights, float)
    weights_per_sample = weights_per_sample / weights_per_sample.sum()
    design = np.hstack([features, np.ones((count, 1))])
    onehot = np.eye(num_classes)[labels]
    gram = design.T @ (design * weights_per_sample[:, None])
    lipschitz = 0.5 * float(np.linalg.eigvalsh(gram)[-1]) + l2
    step = 1.0 / lipschitz
    penalty = np.ones((dim + 1, 1))
    penalty[-1] = 0.0  # the bias is not regularised

    params = np.zeros((dim + 1, num_classes))
    momentum = params.copy()
    for iteration in range(iterations):
        probabilities = softmax(design @ momentum)
        gradient = (
            design.T @ ((probabilities - onehot) * weights_per_sample[:, None]) + l2 * penalty * momentum
        )
        updated = momentum - step * gradient
        momentum = updated + (iteration / (iteration + 3)) * (updated - params)
        params = updated
    return params[:-1], params[-1]


def principal_basis(features: Array, dimensions: int) -> Array:
    """Orthonormal basis ``[d, dimensions]`` of the leading principal directions of ``features``."""
    _, _, right = np.linalg.svd(np.asarray(features, np.float64), full_matrices=False)
    return np.asarray(right[:dimensions].T)


def principal_residual(features: Array, basis: Array) -> Array:
    """Norm of the part of each row outside ``span(basis)``, relative to the row's norm (``[N]``, 0–1)."""
    rows = np.atleast_2d(np.asarray(features, np.float64))
    outside = rows - (rows @ basis) @ basis.T
    norms = np.maximum(np.linalg.norm(rows, axis=-1), 1e-12)
    return np.asarray(np.linalg.norm(outside, axis=-1) / norms)


def fit_temperature(logits: Array, labels: Labels) -> float:
    """The temperature T minimising the NLL of ``softmax(logits / T)``: golden-section search on log T."""
    low, high = math.log(0.05), math.log(20.0)
    ratio = (math.sqrt(5.0) - 1.0) / 2.0

    def loss(log_t: float) -> float:
        return negative_log_likelihood(logits, labels, math.exp(log_t))

    a, b = high - ratio * (high - low), low + ratio * (high - low)
    loss_a, loss_b = loss(a), loss(b)
    for _ in range(80):
        if loss_a < loss_b:
            high, b, loss_b = b, a, loss_a
            a = high - ratio * (high - low)
            loss_a = loss(a)
        else:
            low, a, loss_a = a, b, loss_b
            b = low + ratio * (high - low)
            loss_b = loss(b)
    return math.exp((low + high) / 2.0)


def expected_calibration_error(confidences: Array, correct: npt.ArrayLike, bins: int = 15) -> float:
    """ECE: |accuracy − mean confidence| per equal-width confidence bin, weighted by the bin's share."""
    confidences = np.asarray(confidences, dtype=np.float64)
    hits = np.asarray(correct, dtype=np.float64)
    if confidences.shape != hits.shape or confidences.ndim != 1:
        raise ValueError("confidences and correct must be 1-d arrays of the same length")
    if len(confidences) == 0:
        raise ValueError("ECE of an empty set is undefined")
    edges = np.linspace(0.0, 1.0, bins + 1)
    bin_index = np.clip(np.digitize(confidences, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        members = bin_index == b
        if members.any():
            error += members.mean() * abs(hits[members].mean() - confidences[members].mean())
    return float(error)


@dataclass(frozen=True)
class SelectiveScore:
    threshold: float
    coverage: float
    answered_accuracy: float


def selective_score(confidences: Array, correct: npt.ArrayLike, threshold: float) -> SelectiveScore:
    """Share of photos answered at ``threshold`` and the accuracy on that share (1.0 when none answered)."""
    hits = np.asarray(correct, dtype=bool)
    answered = np.asarray(confidences) >= threshold
    accuracy = float(hits[answered].mean()) if answered.any() else 1.0
    return SelectiveScore(threshold, float(answered.mean()), accuracy)


def choose_threshold(
    confidences: Array, correct: npt.ArrayLike, target_accuracy: float, floor: float = 0.5
) -> SelectiveScore:
    """The lowest threshold ≥ ``floor`` whose answered share reaches ``target_accuracy`` (max coverage)."""
    for candidate in np.round(np.arange(floor, 0.991, 0.01), 2):
        score = selective_score(confidences, correct, float(candidate))
        if score.answered_accuracy >= target_accuracy:
            return score
    return selective_score(confidences, correct, 0.99)
