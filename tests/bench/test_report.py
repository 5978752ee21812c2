from __future__ import annotations

from pathlib import Path

import pytest

from bench import report


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "benchmarks.md"
    monkeypatch.setattr(report, "DOCS_PATH", path)
    monkeypatch.setattr(report, "RESULTS_DIR", tmp_path / "results")
    return path


def test_publish_replaces_only_its_own_section(docs: Path) -> None:
    docs.write_text(
        "# Benchmarks\nintro\n<!-- results:a -->\nold a\n<!-- /results:a -->\nmiddle\n"
        "<!-- results:b -->\nold b\n<!-- /results:b -->\nend\n"
    )
    report.publish("a", "new a", {"figure": 1}, write_docs=True)
    assert docs.read_text() == (
        "# Benchmarks\nintro\n<!-- results:a -->\nnew a\n<!-- /results:a -->\nmiddle\n"
        "<!-- results:b -->\nold b\n<!-- /results:b -->\nend\n"
    )
    kept = sorted(path.suffix for path in (docs.parent / "results").iterdir())
    assert kept == [".json", ".md"]


def test_publish_appends_a_missing_section(docs: Path) -> None:
    docs.write_text("# Benchmarks\n")
    report.publish("a", "figures", {}, write_docs=True)
    assert docs.read_text() == "# Benchmarks\n\n<!-- results:a -->\nfigures\n<!-- /results:a -->\n"


def test_publish_can_leave_the_docs_alone(docs: Path) -> None:
    docs.write_text("# Benchmarks\n")
    report.publish("a", "figures", {}, write_docs=False)
    assert docs.read_text() == "# Benchmarks\n"


def test_lower_bounds_and_missing_values_are_marked() -> None:
    assert report.ms(12.345) == "12.3"
    assert report.ms(1234.5, lower_bound=True) == "> 1234"
    assert report.ms(float("nan")) == "–"
