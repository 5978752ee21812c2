"""The evaluation report and the docs section it rewrites, on a hand-built head and hand-made features."""

from pathlib import Path

import numpy as np
import pytest

from apps.waste.analysis.classifier.artifacts import HEAD_FILE, record_artifact
from apps.waste.analysis.classifier.dataset import Sample, Split
from apps.waste.analysis.classifier.docs_section import replace_section
from apps.waste.analysis.classifier.evaluate import ClassFigures, evaluate
from apps.waste.analysis.classifier.features import FeatureSet

from .test_head_and_decision import ASHCAN, CARDBOARD, GLASS, _head


def test_report_counts_accuracy_coverage_and_abstentions(tmp_path):
    _head().save(tmp_path / HEAD_FILE)
    record_artifact(tmp_path, HEAD_FILE, produced_by="test", details={})
    # cardboard (sure, right), glass (sure, right), glass labelled but looks cardboard (sure, wrong),
    # cardboard weak (below threshold), and a training-split photo that must be ignored.
    rows: list[tuple[int, list[float], Split]] = [
        (CARDBOARD, [2.0, 0.0, 0.0, 0.0], "test"),
        (GLASS, [0.0, 2.0, 0.0, 0.0], "test"),
        (GLASS, [2.0, 0.0, 0.0, 0.0], "test"),
        (CARDBOARD, [0.3, 0.2, 0.0, 0.0], "test"),
        (GLASS, [0.0, 2.0, 0.0, 0.0], "train"),
    ]
    samples = [Sample(Path(f"{i}.jpg"), label, split) for i, (label, _, split) in enumerate(rows)]
    features = np.array([[row[1]] for row in rows], dtype=np.float32)
    logits = np.zeros((len(rows), 1, 1000), dtype=np.float32)
    logits[:, 0, ASHCAN] = 12.0
    report = evaluate(FeatureSet(samples, features, logits), tmp_path, threshold=None)

    assert report.photos == 4
    assert report.threshold == 0.7
    assert report.per_class["cardboard"] == ClassFigures(
        photos=2, accuracy=1.0, coverage=0.5, answered_accuracy=1.0
    )
    assert report.per_class["glass"] == ClassFigures(
        photos=2, accuracy=0.5, coverage=1.0, answered_accuracy=0.5
    )
    assert "paper" not in report.per_class  # no test photo of that class
    assert report.class_accuracy == 0.75
    assert report.coverage == 0.75
    assert report.answered_accuracy == pytest.approx(2 / 3)
    assert report.abstentions["low_confidence"] == 0.25
    assert 0.0 <= report.category_ece <= 1.0
    assert "| cardboard | 2 | 100.0% | 50.0% | 100.0% |" in report.lines()


def test_an_empty_test_split_is_reported_not_divided_by_zero(tmp_path):
    _head().save(tmp_path / HEAD_FILE)
    record_artifact(tmp_path, HEAD_FILE, produced_by="test", details={})
    samples = [Sample(Path("a.jpg"), 0, "train")]
    features = FeatureSet(samples, np.zeros((1, 1, 4), np.float32), np.zeros((1, 1, 1000), np.float32))
    with pytest.raises(SystemExit, match="test split is empty"):
        evaluate(features, tmp_path, threshold=None)


def test_docs_section_is_appended_once_then_replaced_in_place(tmp_path):
    doc = tmp_path / "classifier.md"
    doc.write_text("# Classifier\n\nintro\n\n## After\n")
    replace_section(doc, "evaluation", "first")
    replace_section(doc, "evaluation", "second")
    text = doc.read_text()
    assert text.count("<!-- evaluation:start -->") == 1
    assert "second" in text
    assert "first" not in text
    assert text.startswith("# Classifier\n\nintro\n\n## After\n")
    doc.write_text("# C\n<!-- evaluation:start -->\nold\n<!-- evaluation:end -->\n## Tail\n")
    replace_section(doc, "evaluation", "new")
    assert doc.read_text() == "# C\n<!-- evaluation:start -->\nnew\n<!-- evaluation:end -->\n## Tail\n"
