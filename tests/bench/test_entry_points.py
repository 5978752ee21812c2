"""The benchmarks fail with a message and a non-zero status before touching any service when input is bad."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bench import end_to_end, scan_api


@pytest.mark.parametrize("main", [scan_api.main, end_to_end.main])
def test_a_missing_photo_fails_cleanly(
    main: Callable[[list[str]], int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--photo", str(tmp_path / "missing.jpg"), "--no-docs"])
    assert status == 1
    assert "failed" in capsys.readouterr().err
