import math

import numpy as np
import pytest

from apps.waste.analysis.classifier.calibration import (
    choose_threshold,
    expected_calibration_error,
    fit_softmax_regression,
    fit_temperature,
    negative_log_likelihood,
    principal_basis,
    principal_residual,
    selective_score,
    softmax,
)


def _blobs(seed: int = 0, per_class: int = 60, classes: int = 3, dim: int = 5):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 3.0, size=(classes, dim))
    labels = np.repeat(np.arange(classes), per_class)
    features = centres[labels] + rng.normal(0.0, 1.0, size=(len(labels), dim))
    return features, labels


def test_softmax_rows_are_probability_vectors_even_for_huge_logits():
    probabilities = softmax(np.array([[1000.0, 0.0, -1000.0], [1.0, 1.0, 1.0]]))
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert np.allclose(probabilities[1], 1 / 3)
    assert probabilities[0, 0] == pytest.approx(1.0)


def test_softmax_regression_learns_separable_classes_deterministically():
    features, labels = _blobs()
    weights, bias = fit_softmax_regression(features, labels, 3, l2=1e-3)
    assert weights.shape == (5, 3)
    assert bias.shape == (3,)
    accuracy = ((features @ weights + bias).argmax(axis=1) == labels).mean()
    assert accuracy > 0.95
    again_weights, again_bias = fit_softmax_regression(features, labels, 3, l2=1e-3)
    assert np.array_equal(weights, again_weights)
    assert np.array_equal(bias, again_bias)


def test_stronger_l2_shrinks_the_weights():
    features, labels = _blobs()
    weak, _ = fit_softmax_regression(features, labels, 3, l2=1e-4)
    strong, _ = fit_softmax_regression(features, labels, 3, l2=1.0)
    assert np.linalg.norm(strong) < np.linalg.norm(weak)


def test_sample_weights_shift_the_decision_towards_the_upweighted_class():
    features = np.array([[0.0], [0.0], [0.0], [0.0]])
    labels = np.array([0, 0, 0, 1])
    _, plain_bias = fit_softmax_regression(features, labels, 2, l2=0.0)
    _, balanced_bias = fit_softmax_regression(
        features, labels, 2, l2=0.0, sample_weights=np.array([1 / 3, 1 / 3, 1 / 3, 1.0])
    )
    assert softmax(plain_bias)[0] == pytest.approx(0.75, abs=0.01)
    assert softmax(balanced_bias)[0] == pytest.approx(0.5, abs=0.01)


def test_temperature_scaling_undoes_overconfidence_and_lowers_nll():
    rng = np.random.default_rng(3)
    true_logits = rng.normal(0.0, 1.5, size=(4000, 4))
    labels = np.array([rng.choice(4, p=p) for p in softmax(true_logits)])
    overconfident = true_logits * 3.0
    temperature = fit_temperature(overconfident, labels)
    assert temperature == pytest.approx(3.0, rel=0.15)
    assert negative_log_likelihood(overconfident, labels, temperature) < negative_log_likelihood(
        overconfident, labels
    )


def test_nll_matches_the_definition():
    logits = np.array([[2.0, 0.0], [0.0, 1.0]])
    labels = np.array([0, 0])
    expected = -(math.log(softmax(logits[0])[0]) + math.log(softmax(logits[1])[0])) / 2
    assert negative_log_likelihood(logits, labels) == pytest.approx(expected)


def test_ece_of_a_hand_computed_case():
    # Bin (0.8, 0.867]: confidences 0.85, 0.85 with one hit → |0.5 − 0.85| = 0.35, weight 1/2.
    # Bin (0.933, 1.0]: confidences 0.95, 0.95 with two hits → |1.0 − 0.95| = 0.05, weight 1/2.
    confidences = np.array([0.85, 0.85, 0.95, 0.95])
    correct = np.array([True, False, True, True])
    assert expected_calibration_error(confidences, correct, bins=15) == pytest.approx(0.2)


def test_ece_is_near_zero_for_calibrated_predictions_and_large_for_overconfident_ones():
    rng = np.random.default_rng(7)
    confidences = rng.uniform(0.3, 1.0, size=20000)
    correct = rng.uniform(size=confidences.size) < confidences
    assert expected_calibration_error(confidences, correct) < 0.02
    assert expected_calibration_error(np.full(1000, 0.99), rng.uniform(size=1000) < 0.6) > 0.3


def test_ece_rejects_empty_or_mismatched_input():
    with pytest.raises(ValueError, match="empty"):
        expected_calibration_error(np.array([]), np.array([]))
    with pytest.raises(ValueError, match="same length"):
        expected_calibration_error(np.array([0.5, 0.6]), np.array([True]))


def test_threshold_choice_takes_the_lowest_threshold_meeting_the_target():
    confidences = np.array([0.55, 0.65, 0.75, 0.85, 0.95])
    correct = np.array([False, False, True, True, True])
    chosen = choose_threshold(confidences, correct, target_accuracy=0.9)
    assert chosen.threshold == pytest.approx(0.66)
    assert chosen.coverage == pytest.approx(0.6)
    assert chosen.answered_accuracy == 1.0
    assert selective_score(confidences, correct, 0.5).answered_accuracy == pytest.approx(0.6)


def test_principal_residual_is_zero_inside_the_subspace_and_one_orthogonal_to_it():
    rng = np.random.default_rng(5)
    plane = rng.normal(size=(200, 2)) @ np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    basis = principal_basis(plane, 2)
    assert basis.shape == (3, 2)
    residual = principal_residual(np.array([[2.0, -1.0, 0.0], [0.0, 0.0, 4.0], [1.0, 0.0, 1.0]]), basis)
    assert residual == pytest.approx([0.0, 1.0, math.sqrt(0.5)], abs=1e-9)
