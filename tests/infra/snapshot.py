"""Text snapshots in tests/infra/snapshots/; regenerate: ``ECO2_UPDATE_SNAPSHOTS=1 pytest tests/infra``."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

SNAPSHOT_DIR = Path(__file__).with_name("snapshots")
UPDATE_ENV = "ECO2_UPDATE_SNAPSHOTS"


def assert_snapshot(name: str, actual: str) -> None:
    """Compare ``actual`` with the stored snapshot ``name``, or rewrite it when the update flag is set."""
    path = SNAPSHOT_DIR / name
    if os.environ.get(UPDATE_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path}; create it with {UPDATE_ENV}=1 and review the file")
    expected = path.read_text()
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True), actual.splitlines(keepends=True), str(path), "rendered"
            )
        )
        pytest.fail(f"rendered text differs from {path} (set {UPDATE_ENV}=1 if intended):\n{diff}")
