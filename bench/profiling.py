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
Parts = tuple[tuple[str, tuple[str, ...]], ...]
POST_ANALYSES_PARTS: Parts = (
    (
        "S3 ranged GET of the photo's first bytes (boto3 → embedded S3)",
        ("read_object_start (apps/core/storage.py", "read_object (apps/core/storage.py"),
    ),
    ("image header check (Pillow)", ("check_image_header (apps/core/images.py",)),
    ("publish to RabbitMQ (publisher confirms)", ("_enqueue (apps/waste/service.py",)),
    (
        "bearer token check (signature, then the Redis revocation lookup)",
        ("verify_access_token (apps/core/access_tokens.py", "authenticate (apps/core/dependencies.py"),
    ),
    ("database connection pool (waiting for a connection, reset on return)", ("(sqlalchemy/pool/",)),
    ("database queries (SQLAlchemy, psycopg)", ("sqlalchemy/", "psycopg/")),
)
GET_ANALYSES_PARTS: Parts = (
    (
        "bearer token signature and claims (PyJWT, Ed25519)",
        ("verify_access_token (apps/core/access_tokens.py",),
    ),
    ("Redis MGET (revocation keys + finished-job cache)", ("(redis/",)),
    ("PostgreSQL read (psycopg, async pool)", ("(psycopg/", "fetch_one (apps/core/async_db.py")),
    ("the answer's JSON, the poll's own code", ("(apps/waste/",)),
    ("dependency solving and parameters (FastAPI)", ("solve_dependencies (fastapi/",)),
    ("middleware, routing, the response (FastAPI, Starlette, ours)", ("run_asgi (uvicorn/",)),
)
"""GET's parts: the rest is uvicorn's HTTP parsing and the event loop's own work."""
# Wall-clock samples that are request work in a threadpool thread (sync endpoint and sync dependencies).
HANDLER_MARKERS = ("(apps/",)
REST = "everything else (FastAPI, uvicorn, app code)"


class ProfileFailed(RuntimeError):
    """py-spy could not sample the process."""


@dataclass(frozen=True)
class Profile:
    wall_clock: bool  # True: request threads' samples, waits included; False: the GIL holder's samples
    samples: int
    shares: dict[str, float]  # label → share of the samples


def py_spy() -> str | None:
    """py-spy on PATH or beside this interpreter (installed into the virtualenv)."""
    return shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))


class Sampler:
    """`with Sampler(...) as sampler:` run load meanwhile; then `sampler.profile(parts)`.

    wall_clock: also sample threads blocked on a socket (S3, database, broker) and keep the request threads'
    samples: where a request's time goes. Otherwise only the thread holding the GIL: where the process's
    Python CPU goes (native work that releases the GIL, such as Pillow's decoder, is undercounted).
    """

    def __init__(
        self, pid: int, seconds: float, subprocesses: bool, wall_clock: bool, rate: int = 200
    ) -> None:
        executable = py_spy()
        if executable is None:
            raise FileNotFoundError("py-spy is not installed (.venv/bin/pip install py-spy)")
        self._scratch = tempfile.TemporaryDirectory(prefix="eco2-py-spy-")
        self.output = Path(self._scratch.name) / "stacks.txt"
        self.wall_clock = wall_clock
        # --nonblocking: never pause the server to sample it.
        self._command = [executable, "record", "--pid", str(pid), "--duration", f"{seconds:.0f}"]
        self._command += ["--rate", str(rate), "--nonblocking", "--idle" if wall_clock else "--gil"]
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

    def profile(self, parts: Parts) -> Profile:
        counts: Counter[str] = Counter()
        for line in self.output.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if self.wall_clock and not any(marker in stack for marker in HANDLER_MARKERS):
                continue
            label = next(
                (label for label, markers in parts if any(marker in stack for marker in markers)), REST
            )
            counts[label] += int(count)
        self._scratch.cleanup()
        total = sum(counts.values())
        labels = [label for label, _ in parts] + [REST]
        shares = {label: counts[label] / total if total else 0.0 for label in labels}
        return Profile(self.wall_clock, total, shares)
