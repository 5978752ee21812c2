"""The image's wheel folder: exactly the lock's wheels for the image's Python, matched by hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tools.image import wheels
from tools.image.wheels import WheelError, collect, needed_on_target
from tools.lock.locks import Pin


def _pin(marker: str | None) -> Pin:
    return Pin("x", "1.0", ("sha256:00",), marker)


def test_markers_are_read_for_any_python_3_11_on_linux() -> None:
    assert needed_on_target(_pin(None))
    assert needed_on_target(_pin("python_full_version < '3.11.3'"))  # bookworm's python3 is 3.11.2
    assert not needed_on_target(_pin("sys_platform == 'win32'"))
    assert not needed_on_target(_pin("python_full_version >= '3.12'"))


def _wheel(folder: Path, name: str, content: bytes) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    return hashlib.sha256(content).hexdigest()


def test_cached_wheels_matching_the_lock_are_copied_and_nothing_else(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    good = _wheel(cache, "a-1.0-py3-none-any.whl", b"a")
    _wheel(cache, "stale-0.1-py3-none-any.whl", b"stale")
    lock = tmp_path / "app.txt"
    lock.write_text(
        f"a==1.0 \\\n    --hash=sha256:{good}\nw==2.0 ; sys_platform == 'win32' \\\n    --hash=sha256:ff\n"
    )
    chosen = collect(lock, cache, tmp_path / "dest")
    assert [path.name for path in chosen] == ["a-1.0-py3-none-any.whl"]
    assert sorted(path.name for path in (tmp_path / "dest").iterdir()) == ["a-1.0-py3-none-any.whl"]


def test_a_wheel_that_cannot_be_had_with_the_locked_hash_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = tmp_path / "app.txt"
    lock.write_text("a==1.0 \\\n    --hash=sha256:" + "0" * 64 + "\n")
    _wheel(tmp_path / "cache", "a-1.0-py3-none-any.whl", b"tampered")
    monkeypatch.setattr(wheels, "download", lambda pins, cache: None)  # the index had nothing better
    with pytest.raises(WheelError, match=r"no wheel of a==1\.0 matches the lock's hashes"):
        collect(lock, tmp_path / "cache", tmp_path / "dest")
