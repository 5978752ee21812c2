"""The gateway as real uvicorn worker processes (not a thread in pytest): for tests of what several processes
export together (multiprocess metrics) and of what the processes write to their logs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from tests.support.provisioning import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]


class ApiProcess:
    """`uvicorn --factory apps.main:create_gateway --workers N` with the test environment plus `env`; its
    output (JSON log lines) goes to `log_path`."""

    def __init__(self, log_path: Path, env: dict[str, str], workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        command = [sys.executable, "-m", "uvicorn", "--factory", "apps.main:create_gateway"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def __enter__(self) -> ApiProcess:
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, f"the API exited:\n{self.log_path.read_text()}"
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"the API did not start:\n{self.log_path.read_text()}"
            time.sleep(0.2)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()
