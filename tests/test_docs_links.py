"""Every relative link in the README and docs/ points at a file that exists, and every #anchor at one of its
headings (GitHub's slugs), so splitting or renaming a page cannot leave dead links behind."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`([^`]*)`", r"\1", heading).lower()
    kept = "".join(char for char in text if char in " -_" or unicodedata.category(char)[0] in {"L", "N"})
    return kept.replace(" ", "-")


def _lines_outside_code(page: Path) -> list[str]:
    lines, fenced = [], False
    for line in page.read_text().splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def anchors(page: Path) -> set[str]:
    seen: Counter[str] = Counter()
    found = set()
    for line in _lines_outside_code(page):
        match = HEADING.match(line)
        if match:
            base = slug(match.group(2))
            found.add(base if seen[base] == 0 else f"{base}-{seen[base]}")
            seen[base] += 1
    return found


def dead_links(page: Path) -> list[str]:
    dead = []
    for line in _lines_outside_code(page):
        for target in LINK.findall(re.sub(r"`[^`]*`", "", line)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                dead.append(f"{target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                dead.append(f"{target} (no such heading)")
    return dead


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPO_ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    assert dead_links(page) == []


def test_the_check_knows_githubs_slugs_and_finds_dead_links(tmp_path: Path) -> None:
    assert slug("The poll on the event loop (third pass, 2026-12-02)") == (
        "the-poll-on-the-event-loop-third-pass-2026-12-02"
    )
    assert slug("Photo → answer, end to end") == "photo--answer-end-to-end"
    assert slug("`make plan` STACK=prod") == "make-plan-stackprod"
    page = tmp_path / "page.md"
    page.write_text("# Title\n## Title\n[a](#title-1) [b](#nowhere) [c](missing.md) [d](https://x.org/#y)\n")
    assert dead_links(page) == ["#nowhere (no such heading)", "missing.md (no such file)"]
