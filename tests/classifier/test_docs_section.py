"""The generated docs sections: each writer rewrites only its block, on the page that holds its markers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.classifier.docs_section import EVALUATION_DOC, LATENCY_DOC, replace_section

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_a_section_is_replaced_between_its_markers_and_nothing_else_moves(tmp_path: Path) -> None:
    doc = tmp_path / "page.md"
    doc.write_text(
        "# Page\n\nintro\n<!-- latency:start -->\nold\n<!-- latency:end -->\n\n## After\ntail\n",
        encoding="utf-8",
    )
    replace_section(doc, "latency", "\nnew table\n")
    assert doc.read_text(encoding="utf-8") == (
        "# Page\n\nintro\n<!-- latency:start -->\nnew table\n<!-- latency:end -->\n\n## After\ntail\n"
    )


def test_a_page_without_the_markers_gets_the_section_appended(tmp_path: Path) -> None:
    doc = tmp_path / "docs" / "page.md"
    replace_section(doc, "evaluation", "first")
    replace_section(doc, "latency", "second")
    assert doc.read_text(encoding="utf-8") == (
        "<!-- evaluation:start -->\nfirst\n<!-- evaluation:end -->\n\n"
        "<!-- latency:start -->\nsecond\n<!-- latency:end -->\n"
    )


@pytest.mark.parametrize(
    ("name", "page"),
    [("evaluation", EVALUATION_DOC), ("mixed-piles", EVALUATION_DOC), ("latency", LATENCY_DOC)],
)
def test_each_writer_targets_the_one_page_that_holds_its_markers(name: str, page: Path) -> None:
    markers = (f"<!-- {name}:start -->", f"<!-- {name}:end -->")
    holders = {
        doc.relative_to(REPO_ROOT): [doc.read_text(encoding="utf-8").count(m) for m in markers]
        for doc in (REPO_ROOT / "docs").glob("*.md")
    }
    assert holders.pop(page) == [1, 1]
    assert all(counts == [0, 0] for counts in holders.values())
