"""The image keeps byte code only for what its processes import at start (tools/image/bytecode.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tools.image import bytecode
from tools.image.bytecode import StartupFailed, drop_unimported_bytecode, imported_sources, source_of


def _files(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")


def test_a_bytecode_file_maps_to_its_source() -> None:
    assert source_of(Path("/sp/pkg/__pycache__/mod.cpython-311.pyc")) == Path("/sp/pkg/mod.py")
    assert source_of(Path("/sp/pkg/__pycache__/__init__.cpython-311.pyc")) == Path("/sp/pkg/__init__.py")


def test_only_imported_modules_and_the_app_keep_their_bytecode(tmp_path: Path) -> None:
    _files(
        tmp_path,
        "lib/used.py",
        "lib/__pycache__/used.cpython-311.pyc",
        "lib/unused.py",
        "lib/__pycache__/unused.cpython-311.pyc",
        "apps/rare.py",
        "apps/__pycache__/rare.cpython-311.pyc",
    )
    files, removed = drop_unimported_bytecode(tmp_path, {str((tmp_path / "lib/used.py").resolve())})
    assert (files, removed) == (1, 1)
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.pyc"))
    assert left == ["apps/__pycache__/rare.cpython-311.pyc", "lib/__pycache__/used.cpython-311.pyc"]
    assert (tmp_path / "lib/unused.py").exists()  # the source stays: importable, compiled in memory


def test_a_failing_start_up_probe_fails_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bytecode, "STARTUP", "import module_pruned_by_mistake")
    with pytest.raises(StartupFailed, match="module_pruned_by_mistake"):
        imported_sources(sys.executable)
