"""The evaluation's "before" head: a previous head file of today's format or of the pre-expert format,
scored on the features it was fitted on."""

from dataclasses import replace
from typing import Any

import numpy as np

from apps.waste.analysis.classifier.artifacts import write_npz
from apps.waste.analysis.classifier.backbone import WASTE_OUTPUT
from apps.waste.analysis.classifier.fit import Rows, fit_head
from apps.waste.analysis.classifier.imagenet_map import EXPERT_CATEGORIES
from tests.support.classifier_artifacts import neutral_layer, synthetic_table
from tools.classifier.evaluate import Labelled, before_head, for_head


def test_a_current_format_head_is_scored_as_it_is(tmp_path):
    table = synthetic_table()
    head = fit_head(Rows.of(table.split("train")), Rows.of(table.split("calibration")), neutral_layer(), 0.9)
    head.save(tmp_path / "before.npz")
    before = before_head(tmp_path / "before.npz")
    features = table.split("test").features
    assert np.allclose(before.probabilities(features), head.probabilities(features))
    assert (before.threshold, before.temperature) == (head.threshold, head.temperature)


def test_a_pre_expert_head_gets_its_single_ceiling_as_every_experts_veto(tmp_path):
    table = synthetic_table()
    head = fit_head(Rows.of(table.split("train")), Rows.of(table.split("calibration")), neutral_layer(), 0.9)
    fields = ("feature_mean", "feature_scale", "weights", "bias", "basis")
    arrays: dict[str, Any] = {name: np.asarray(getattr(head, name), np.float32) for name in fields}
    arrays |= {name: np.float64(getattr(head, name)) for name in ("temperature", "residual_ceiling")}
    arrays |= {"not_waste_ceiling": np.float64(0.5), "threshold": np.float64(0.76)}
    arrays |= {"classes": np.array(head.classes), "unseen_ceiling": np.float64(0.3)}
    write_npz(tmp_path / "legacy.npz", arrays)
    before = before_head(tmp_path / "legacy.npz")
    assert before.threshold == 0.76
    assert before.expert_categories == EXPERT_CATEGORIES
    assert np.all(before.expert_veto == 0.3)
    assert np.all(np.isinf(before.expert_answer))


def test_a_head_fitted_before_the_fine_tuned_tail_is_scored_on_the_imagenet_tails_features():
    table = synthetic_table()
    head = fit_head(Rows.of(table.split("train")), Rows.of(table.split("calibration")), neutral_layer(), 0.9)
    test = table.split("test")
    sets = [
        Labelled("test", test.features * 2, test.imagenet_features, [None] * len(test), ["x"] * len(test))
    ]
    (earlier,) = for_head(head, sets)  # no "head_features" in its provenance: a single-tail head
    assert np.array_equal(earlier.features, test.imagenet_features)
    fine_tuned = replace(head, provenance={**head.provenance, "head_features": WASTE_OUTPUT})
    assert for_head(fine_tuned, sets) == sets
