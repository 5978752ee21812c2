"""Rewrite one generated section of a classifier docs page in place (between HTML comment markers).

Each writer has its page: ``evaluate`` the ``evaluation`` section and ``mixed_piles`` the ``mixed-piles``
section of docs/classifier-evaluation.md, ``bench.classifier_latency`` the ``latency`` section of
docs/classifier.md.
"""

from __future__ import annotations

from pathlib import Path

EVALUATION_DOC = Path("docs/classifier-evaluation.md")
LATENCY_DOC = Path("docs/classifier.md")


def replace_section(doc: Path, name: str, body: str) -> None:
    """Put ``body`` between ``<!-- name:start -->`` and ``<!-- name:end -->``, appending them if absent."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = before + block + after
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")
