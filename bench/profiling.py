"""Where request handlers' wall time goes: py-spy samples of a live API process, grouped by what they do.

py-spy is a profiling tool, not a dependency: when it is missing the benchmark says so and skips the profile
(`.venv/bin/pip install py-spy`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# (label, markers): a sample belongs to the first label one of whose markers appears in its stack.
POST_ANALYSES_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "S3 HEAD + GET of the photo (boto3 → embedded S3)",
        ("head_object (apps/core/storage.py", "read_object (apps/core/storage.py"),
    ),
    ("image decode (Pillow)", ("decode_image (apps/core/images.py",)),
    ("publish to RabbitMQ (publisher confirms)", ("enqueue_analysis (apps/waste/service.py",)),
    ("bearer token check", ("read_access_token (apps/auth/tokens.py",)),
    ("waiting for a pooled database connection", ("(sqlalchemy/pool/",)),
    ("database queries (SQLAlchemy, psycopg)", ("sqlalchemy/", "psycopg/")),
)
# Samples that are request work in a threadpool thread (sync endpoint and sync dependencies).
HANDLER_MARKERS = ("(apps/",)


class ProfileFailed(RuntimeError):
    """py-spy could not sample the process."""


@dataclass(frozen=True)
class Profile:
    samples: int
    shares: dict[str, float]  # label → share of the request-handling samples


def py_spy() -> str | None:
    """py-spy on PATH or beside this interpreter (installed into the virtualenv)."""
    return shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))


class Sampler:
    """`with Sampler(pid, seconds) as sampler:` run load meanwhile; then `sampler.profile(parts)`."""

    def __init__(self, pid: int, seconds: float, subprocesses: bool, rate: int = 200) -> None:
        executable = py_spy()
        if executable is None:
            raise FileNotFoundError("py-spy is not installed (.venv/bin/pip install py-spy)")
        self._scratch = tempfile.TemporaryDirectory(prefix="eco2-py-spy-")
        self.output = Path(self._scratch.name) / "stacks.txt"
        # --idle: threads blocked on a socket (S3, database, broker) are what we want to see.
        # --nonblocking: never pause the server to sample it.
        self._command = [executable, "record", "--pid", str(pid), "--duration", f"{seconds:.0f}"]
        self._command += ["--rate", str(rate), "--idle", "--nonblocking"]
        if subprocesses:  # uvicorn --workers N > 1: the pid is the supervisor
            self._command.append("--subprocesses")
        self._command += ["--format", "raw", "--output", str(self.output)]
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Sampler:
        self._process = subprocess.Popen(self._command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return self

    def __exit__(self, *_: object) -> None:
        assert self._process is not None
        _output, errors = self._process.communicate(timeout=120)
        if self._process.returncode != 0 or not self.output.exists():
            self._scratch.cleanup()
            message = errors.decode(errors="replace").strip().splitlines() or ["no output"]
            raise ProfileFailed(f"py-spy failed ({self._process.returncode}): {message[0]}")

    def profile(self, parts: tuple[tuple[str, tuple[str, ...]], ...]) -> Profile:
        counts: Counter[str] = Counter()
        for line in self.output.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not any(marker in stack for marker in HANDLER_MARKERS):
                continue
            label = next(
                (label for label, markers in parts if any(marker in stack for marker in markers)),
                "other app and framework code",
            )
            counts[label] += int(count)
        self._scratch.cleanup()
        total = sum(counts.values())
        labels = [label for label, _ in parts] + ["other app and framework code"]
        return Profile(total, {label: counts[label] / total if total else 0.0 for label in labels})
