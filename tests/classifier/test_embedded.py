"""The analyzer end to end on the committed artifacts (onnxruntime only) with scikit-image's photos."""

import os

import numpy as np
import pytest
from PIL import Image

from apps.waste.analysis.classifier.artifacts import DEFAULT_ARTIFACTS_DIR
from apps.waste.analysis.classifier.backbone import Backbone
from apps.waste.analysis.classifier.preprocessing import preprocess
from apps.waste.analysis.classifier.runtime import load_head
from apps.waste.analysis.embedded import EmbeddedAnalyzer
from apps.waste.analysis.types import AnalyzerSource
from tools.classifier.backgrounds import background
from tools.classifier.renders import carton, shirt

from .conftest import as_input, drawn_battery, drawn_milk_carton, drawn_styrofoam, landscape, photo


def test_the_default_threshold_is_the_one_the_head_was_calibrated_for():
    assert EmbeddedAnalyzer().threshold == load_head(DEFAULT_ARTIFACTS_DIR).threshold
    assert EmbeddedAnalyzer(threshold=0.5).threshold == 0.5


@pytest.mark.parametrize("threshold", [-0.1, 1.5])
def test_threshold_outside_zero_one_is_rejected(threshold):
    with pytest.raises(ValueError, match="threshold"):
        EmbeddedAnalyzer(threshold=threshold)


def test_intra_op_threads_must_be_positive():
    with pytest.raises(ValueError, match="intra_op_threads"):
        EmbeddedAnalyzer(intra_op_threads=0)


def test_a_printed_page_is_confidently_paper(analyzer):
    result = analyzer.analyze(as_input(photo("page")))
    assert result.status == "confident"
    assert result.category == "recyclable/paper"
    assert result.item is None
    assert result.confidence >= analyzer.threshold
    assert result.source is AnalyzerSource.EMBEDDED
    assert result.candidates[0].category == "recyclable/paper"
    assert result.candidates[0].probability == pytest.approx(result.confidence)
    assert sum(c.probability for c in result.candidates) == pytest.approx(1.0)
    assert result.conditions == []
    assert result.notes is not None
    assert "종이팩" in result.notes  # the look-alike it cannot tell apart is named


def test_predictions_are_deterministic_and_ignore_the_hint(analyzer):
    image = as_input(photo("coffee"))
    first = analyzer.analyze(image)
    again = analyzer.analyze(image, hint="유리병이에요")
    assert first == again
    other_instance = EmbeddedAnalyzer(intra_op_threads=2).analyze(image)
    assert [c.category for c in other_instance.candidates] == [c.category for c in first.candidates]
    assert other_instance.confidence == pytest.approx(first.confidence, abs=1e-4)


def test_a_cat_is_not_waste_and_the_note_asks_for_a_hint(analyzer):
    result = analyzer.analyze(as_input(photo("chelsea")))
    assert result.status == "uncertain"
    assert result.category is None
    assert result.item is None
    assert result.candidates == []  # the head's probabilities mean nothing for a cat
    assert result.confidence == 0.0
    assert result.notes is not None
    assert "cat" in result.notes
    assert "알려 주세요" in result.notes


@pytest.mark.parametrize("name", ["astronaut", "rocket", "text"])
def test_people_scenes_and_graphics_are_never_answered(analyzer, name):
    result = analyzer.analyze(as_input(photo(name)))
    assert result.status == "uncertain"
    assert result.category is None
    assert result.candidates == []


def test_a_checkerboard_is_never_answered(analyzer):
    # Training composites include tiled floors, so a checkerboard is no longer "unfamiliar"; it stays
    # below the threshold.
    result = analyzer.analyze(as_input(photo("checkerboard")))
    assert result.status == "uncertain"
    assert result.category is None


def test_a_landscape_is_never_answered(analyzer):
    result = analyzer.analyze(as_input(landscape()))
    assert result.status == "uncertain"
    assert result.category is None


def test_everything_is_uncertain_at_threshold_one_but_candidates_remain():
    strict = EmbeddedAnalyzer(threshold=1.0)
    result = strict.analyze(as_input(photo("page")))
    assert result.status == "uncertain"
    assert result.category is None
    assert result.candidates[0].category == "recyclable/paper"  # in domain, merely not sure enough
    assert result.confidence > load_head(DEFAULT_ARTIFACTS_DIR).threshold
    assert result.notes is not None
    assert "100%" in result.notes


def test_odd_image_modes_and_sizes_are_handled(analyzer):
    for image in (Image.new("L", (3, 700), 200), Image.new("RGBA", (640, 20), (0, 0, 0, 0))):
        result = analyzer.analyze(as_input(image))
        assert result.status in {"confident", "uncertain"}
        assert 0.0 <= result.confidence <= 1.0


@pytest.mark.parametrize("draw", [drawn_battery, drawn_styrofoam], ids=["battery", "styrofoam"])
def test_drawn_unseen_categories_are_not_answered(analyzer, draw):
    # Drawings, not photos: weak evidence, but they pin the behaviour of the unfamiliar-photo guard.
    result = analyzer.analyze(as_input(draw()))
    assert result.status == "uncertain"
    assert result.category is None


def _drawn(draw, seed: int, held_out: bool):
    rng = np.random.default_rng(seed)
    return draw(rng, background(rng, 300, held_out=held_out))


@pytest.mark.parametrize("seed", range(6))
def test_a_shirt_is_never_answered_paper(analyzer, seed):
    result = analyzer.analyze(as_input(_drawn(shirt, seed, held_out=seed % 2 == 0)))
    assert result.category != "recyclable/paper"
    assert result.category in {None, "recyclable/textile"}, result


@pytest.mark.parametrize("seed", range(6))
def test_a_carton_is_refused_or_answered_paper_with_the_paper_pack_note(analyzer, seed):
    result = analyzer.analyze(as_input(_drawn(carton, seed, held_out=seed % 2 == 0)))
    assert result.category in {None, "recyclable/paper", "recyclable/paper_pack"}, result
    if result.category == "recyclable/paper":
        assert result.notes is not None
        assert "종이팩" in result.notes


def test_a_paper_answer_for_a_milk_carton_at_least_names_paper_packs(analyzer):
    result = analyzer.analyze(as_input(drawn_milk_carton()))
    assert result.category in {None, "recyclable/paper", "recyclable/paper_pack"}
    assert result.notes is not None
    assert result.category != "recyclable/paper" or "종이팩" in result.notes


def test_features_of_the_analysed_photo_are_served_without_a_second_run(analyzer, monkeypatch):
    image = as_input(photo("coffee"))
    analyzer.analyze(image)

    def no_inference(*_args: object) -> None:
        raise AssertionError("the features of the photo just analysed should be reused")

    monkeypatch.setattr(Backbone, "run", no_inference)
    assert analyzer.features(image).shape == (2 * 1280,)  # both tails' pooled features


def test_the_session_is_shared_within_a_process_but_rebuilt_after_fork(monkeypatch):
    backbone = Backbone(DEFAULT_ARTIFACTS_DIR, intra_op_threads=1)
    first = backbone._get_session()
    assert backbone._get_session() is first
    assert Backbone(DEFAULT_ARTIFACTS_DIR, intra_op_threads=1)._get_session() is first
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as seen from a forked child
    assert backbone._get_session() is not first


def test_a_scan_keeps_the_features_the_head_reads(analyzer):
    image = as_input(photo("coffee"))
    analyzer.analyze(image)
    outputs = Backbone(DEFAULT_ARTIFACTS_DIR, intra_op_threads=1).run(preprocess(image.image))
    assert np.allclose(analyzer.features(image), outputs.features[0], atol=1e-4)
    # The committed graph has a fine-tuned tail: the head reads the ImageNet tail's features, then its own.
    assert Backbone(DEFAULT_ARTIFACTS_DIR).fine_tuned
    width = outputs.imagenet_features.shape[1]
    assert outputs.features.shape[1] == 2 * width
    assert np.array_equal(outputs.features[:, :width], outputs.imagenet_features)
    assert not np.allclose(outputs.features[:, width:], outputs.imagenet_features, atol=1e-2)
