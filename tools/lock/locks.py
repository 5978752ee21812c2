"""Which lock files exist, what they are compiled from, and how a lock's header ties it to pyproject.toml.

Standard library only: `make venv` checks the lock before any virtualenv exists.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DIGEST_PREFIX = "# pyproject-digest: sha256:"
# The extras that are locked. `train` (torch from a CPU wheel) is deliberately not: see docs/delivery.md.
LOCKED_EXTRAS = ("app", "infra", "dev")


@dataclass(frozen=True)
class LockFile:
    """One requirement file: its path, who installs it, and the pyproject extras it is compiled from.

    ``packages`` narrows an extra to the named requirements (the policy pack needs two of `infra`'s)."""

    path: str
    consumer: str
    extras: tuple[str, ...]
    packages: tuple[str, ...] = ()


# The first is the full resolution; the others are compiled with it as constraints, so every file pins
# the same version of a package.
FULL = LockFile("requirements/dev.txt", "make venv and CI", LOCKED_EXTRAS)
LOCK_FILES = (
    FULL,
    LockFile("requirements/app.txt", "the app image (apps/Dockerfile)", ("app",)),
    LockFile("requirements.txt", "the Pulumi toolchain (`pulumi install` / `pulumi up`)", ("infra",)),
    LockFile(
        "policy/requirements.txt", "the policy pack's virtualenv", ("infra",), ("pulumi", "pulumi-policy")
    ),
)


class LockError(RuntimeError):
    """A lock file is missing, stale or inconsistent with pyproject.toml; the message says what to run."""


def normalize(name: str) -> str:
    """PEP 503 name normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


def load_pyproject(root: Path = REPO_ROOT) -> dict[str, Any]:
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))


def pyproject_digest(pyproject: dict[str, Any]) -> str:
    """SHA-256 over what a lock is compiled from: requires-python, dependencies and the locked extras.

    Other sections (tools, scripts, package data) do not change the resolution and are left out."""
    project = pyproject["project"]
    extras = project.get("optional-dependencies", {})
    relevant = {
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": {extra: extras.get(extra, []) for extra in LOCKED_EXTRAS},
    }
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def header(lock: LockFile, digest: str) -> str:
    source = ", ".join(lock.extras) + (f" (only {', '.join(lock.packages)})" if lock.packages else "")
    return (
        f"# Locked by `make lock` (tools/lock) from pyproject.toml extras {source}; do not edit by hand.\n"
        f"# Installed by {lock.consumer}: pip install --require-hashes --no-deps -r {lock.path}\n"
        f"{DIGEST_PREFIX}{digest}\n"
    )


def recorded_digest(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith(DIGEST_PREFIX):
            return line.removeprefix(DIGEST_PREFIX).strip()
    return None


def check_digests(root: Path = REPO_ROOT) -> None:
    """Raise LockError unless every lock file exists and was compiled from the current pyproject.toml."""
    digest = pyproject_digest(load_pyproject(root))
    problems = []
    for lock in LOCK_FILES:
        path = root / lock.path
        if not path.is_file():
            problems.append(f"{lock.path} is missing")
        elif recorded_digest(path.read_text(encoding="utf-8")) != digest:
            problems.append(f"{lock.path} was compiled from another pyproject.toml")
    if problems:
        raise LockError("; ".join(problems) + ": run `make lock` and commit the lock files")


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    hashes: tuple[str, ...]
    marker: str | None


_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$"
)


def parse_lock(text: str) -> dict[str, Pin]:
    """The pins of a hashed requirement file, by normalised name."""
    pins: dict[str, Pin] = {}
    current: tuple[str, str, str | None] | None = None
    hashes: list[str] = []

    def flush() -> None:
        if current is not None:
            name, version, marker = current
            pins[normalize(name)] = Pin(normalize(name), version, tuple(hashes), marker)

    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("--hash="):
            hashes.append(line.removeprefix("--hash=").rstrip("\\ ").strip())
            continue
        match = _PIN.match(line)
        if match is None:
            raise LockError(f"not a pinned requirement: {line!r}")
        flush()
        current = (match["name"], match["version"], match["marker"])
        hashes = []
    flush()
    return pins
