"""`make lock`: compile every lock file from pyproject.toml with uv; `--check`: verify they are current.

Usage: ``python -m tools.lock [--check]``. The full resolution (requirements/dev.txt) is compiled first; the
others use it as constraints, so a package has one version everywhere. The files are replaced together, only
when every compilation succeeded. uv's version is the one pinned in the dev extra; it is installed into
.local/lock-tools when missing, so the command works before any virtualenv exists.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

from tools.lock.locks import (
    FULL,
    LOCK_FILES,
    REPO_ROOT,
    LockError,
    LockFile,
    check_digests,
    header,
    load_pyproject,
    normalize,
    pyproject_digest,
)

TOOLS_VENV = REPO_ROOT / ".local" / "lock-tools"


def pinned_uv(pyproject: dict[str, object]) -> str:
    project = pyproject["project"]
    assert isinstance(project, dict)
    for requirement in project["optional-dependencies"]["dev"]:
        if normalize(requirement.split("==")[0]) == "uv" and "==" in requirement:
            return str(requirement.split("==")[1])
    raise LockError("pyproject.toml's dev extra must pin uv (uv==X.Y.Z): `make lock` runs that version")


def ensure_uv(version: str) -> Path:
    uv = TOOLS_VENV / "bin" / "uv"
    if uv.exists():
        installed = subprocess.run([uv, "--version"], capture_output=True, text=True, check=False).stdout
        if installed.split()[1:2] == [version]:
            return uv
    print(f"installing uv {version} into {TOOLS_VENV.relative_to(REPO_ROOT)}", flush=True)
    venv.create(TOOLS_VENV, with_pip=True, clear=True)
    subprocess.run(
        [TOOLS_VENV / "bin" / "python", "-m", "pip", "install", "-q", f"uv=={version}"], check=True
    )
    return uv


def compile_lock(
    uv: Path, lock: LockFile, pyproject: dict[str, object], out: Path, constraints: Path | None
) -> None:
    command: list[str | Path] = [uv, "pip", "compile", "--quiet", "--universal", "--python-version", "3.11"]
    command += ["--generate-hashes", "--no-header", "--output-file", out]
    if lock.packages:
        project = pyproject["project"]
        assert isinstance(project, dict)
        chosen = [
            requirement
            for extra in lock.extras
            for requirement in project["optional-dependencies"][extra]
            if normalize(requirement.split("=")[0].split("[")[0].strip()) in lock.packages
        ]
        source = out.with_suffix(".in")
        source.write_text("\n".join(chosen) + "\n", encoding="utf-8")
        command.append(source)
    else:
        command.append("pyproject.toml")
        for extra in lock.extras:
            command += ["--extra", extra]
    if constraints is not None:
        command += ["--constraints", constraints]
    env = {**os.environ, "UV_CUSTOM_COMPILE_COMMAND": "make lock"}
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise LockError(f"uv could not lock {lock.path}:\n{completed.stderr.strip()}")


def relock() -> None:
    pyproject = load_pyproject()
    uv = ensure_uv(pinned_uv(pyproject))
    digest = pyproject_digest(pyproject)
    with tempfile.TemporaryDirectory(prefix="eco2-lock-") as scratch:
        compiled: dict[LockFile, Path] = {}
        for number, lock in enumerate(LOCK_FILES):
            out = Path(scratch) / f"{number}.txt"
            compile_lock(uv, lock, pyproject, out, None if lock is FULL else compiled[FULL])
            compiled[lock] = out
        for lock, out in compiled.items():
            # uv's "via" notes name the scratch files: give them the names a reader knows.
            text = out.read_text(encoding="utf-8").replace(str(compiled[FULL]), FULL.path)
            text = text.replace(str(out.with_suffix(".in")), "pyproject.toml")
            target = REPO_ROOT / lock.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(header(lock, digest) + text, encoding="utf-8")
            print(f"locked {lock.path}")


def main(argv: list[str]) -> int:
    try:
        if argv == ["--check"]:
            check_digests()
            print("the lock files match pyproject.toml")
        elif not argv:
            relock()
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except LockError as error:
        print(f"lock: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
