"""An isolated Eco² stack for one benchmark run, torn down when the run ends.

It uses the machine's PostgreSQL and RabbitMQ, but a database and a vhost of its own, and starts its own
embedded S3 server, API processes and (for end-to-end runs) Celery worker. The bench process itself points its
settings at the same resources, so it can prepare data through the app's own models and storage helpers.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import httpx

from tests.support.provisioning import (
    ProvisioningError,
    create_database,
    create_vhost,
    delete_vhost,
    drop_database,
    free_port,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / ".local" / "bench"

# The options every API process is served with: the gateway and the bare "hello" app get exactly these.
UVICORN_OPTIONS = ("--host", "127.0.0.1", "--log-level", "warning", "--no-access-log")


class StackError(ProvisioningError):
    """A part of the stack could not be started (its database or vhost included)."""


@dataclass
class Service:
    """A process the stack started, in its own session so that its children die with it."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    url: str | None = None

    @property
    def session_id(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def _raise_on_sigterm(signum: int, _: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@dataclass
class Stack:
    """Use as a context manager: `with Stack() as stack: stack.start_api(...)`. One per process: entering it
    points this process's settings (read once, then cached) at the stack's resources."""

    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    services: list[Service] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.database = f"eco2_bench_{self.run_id}"
        self.vhost = f"eco2_bench_{self.run_id}"
        self.s3_port = free_port()
        self.log_dir = RESULTS_DIR / f"run-{self.run_id}"
        self.environment = {
            "ECO2_ENVIRONMENT": "local",
            "ECO2_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.database}",
            "ECO2_BROKER_URL": f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}",
            "ECO2_REDIS_URL": "redis://127.0.0.1:6379/14",
            "ECO2_S3_ENDPOINT_URL": f"http://127.0.0.1:{self.s3_port}",
            "ECO2_S3_BUCKET": "eco2-bench-images",
            "ECO2_S3_ACCESS_KEY_ID": "local",
            "ECO2_S3_SECRET_ACCESS_KEY": "local-secret",
            # One token per simulated user for the whole run, signed in through the local provider.
            "ECO2_ACCESS_TOKEN_TTL_SECONDS": "3600",
            "ECO2_AUTH_RATE_LIMIT_PER_MINUTE": "100000",
            "ECO2_AUTH_RATE_LIMIT_BURST": "100000",
            "ECO2_ANALYZER": "embedded",
            "ECO2_OPENAI_API_KEY": "",
            # The limits stay on (their cost is measured) but far above what the bench's few users send.
            "ECO2_RATE_LIMIT_NAMESPACE": f"eco2-bench-{self.run_id}",
            "ECO2_UPLOAD_RATE_PER_MINUTE": "100000000",
            "ECO2_ANALYSIS_RATE_PER_MINUTE": "100000000",
            "ECO2_PENDING_UPLOADS_MAX": "100000000",
        }
        self._created_database = False
        self._created_vhost = False

    # -- lifecycle -------------------------------------------------------------------------------------------

    def __enter__(self) -> Stack:
        signal.signal(signal.SIGTERM, _raise_on_sigterm)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # Before any `apps` import: settings, the engine and the Celery app are built from the environment.
        os.environ.update(self.environment)
        try:
            self._create_database()
            self._create_vhost()
            self._start_s3()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop every process, then drop the database and the vhost. Safe to call more than once."""
        for service in reversed(self.services):
            service.stop()
        self.services.clear()
        if "apps.core.db" in sys.modules:
            from apps.core.db import get_engine

            get_engine().dispose()
        if self._created_database:
            self._drop_database()
        if self._created_vhost:
            delete_vhost(self.vhost)
            self._created_vhost = False

    # -- resources -------------------------------------------------------------------------------------------

    def _create_database(self) -> None:
        from apps.core.migrate import upgrade

        create_database(self.database)
        self._created_database = True
        upgrade(self.environment["ECO2_DATABASE_URL"])

    def _drop_database(self) -> None:
        drop_database(self.database)
        self._created_database = False

    def _create_vhost(self) -> None:
        create_vhost(self.vhost)
        self._created_vhost = True

    def _start_s3(self) -> None:
        from apps.core.settings import get_settings
        from apps.core.storage import ensure_bucket, get_s3_client

        url = self.environment["ECO2_S3_ENDPOINT_URL"]
        self.start(
            "s3",
            [sys.executable, "-m", "apps.cli", "local-s3", "--port", str(self.s3_port)],
            ready=lambda: _answers(url + "/"),
            url=url,
        )
        settings = get_settings()
        ensure_bucket(get_s3_client(), settings.s3_bucket, settings.s3_region, ["http://127.0.0.1"])

    # -- processes -------------------------------------------------------------------------------------------

    def start(
        self,
        name: str,
        command: list[str],
        ready: Callable[[], bool],
        url: str | None = None,
        timeout: float = 90.0,
        env: dict[str, str] | None = None,
    ) -> Service:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as log:  # a restarted service appends to its log
            process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env={**os.environ, **self.environment, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        service = Service(name, process, log_path, url)
        self.services.append(service)
        deadline = time.monotonic() + timeout
        while not ready():
            if process.poll() is not None:
                raise StackError(f"{name} exited with {process.returncode}:\n{service.log_tail()}")
            if time.monotonic() > deadline:
                raise StackError(f"{name} was not ready after {timeout:.0f} s:\n{service.log_tail()}")
            time.sleep(0.1)
        return service

    def service(self, name: str) -> Service:
        return next(service for service in self.services if service.name == name)

    def stop(self, service: Service) -> None:
        service.stop()
        self.services.remove(service)

    def start_api(
        self, name: str, factory: str, processes: int, ready_path: str, env: dict[str, str] | None = None
    ) -> Service:
        """Serve an ASGI app factory with uvicorn, with the options every API process of a bench run gets
        (and `env` on top of the stack's environment)."""
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--port", str(port)]
        command += [*UVICORN_OPTIONS, "--workers", str(processes)]
        return self.start(name, command, ready=lambda: _answers(url + ready_path), url=url, env=env)

    def start_worker(self, concurrency: int) -> Service:
        """The real Celery worker (embedded classifier), as `scripts/up.sh` runs it, minus beat."""
        command = [sys.executable, "-m", "celery", "-A", "apps.worker", "worker"]
        command += ["-Q", "high_priority,default,low_priority", "--concurrency", str(concurrency)]
        command += ["--without-mingle", "--without-gossip", "--loglevel", "INFO"]
        log_path = self.log_dir / "worker.log"
        return self.start(
            "worker", command, ready=lambda: log_path.exists() and "ready." in log_path.read_text()
        )


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def issue_tokens(api_url: str, count: int) -> list[str]:
    """Bearer tokens of `count` fresh users, from the local sign-in provider of a local stack."""
    tokens = []
    with httpx.Client(base_url=api_url, timeout=30) as client:
        for number in range(count):
            response = client.post(
                "/api/v1/auth/local/token",
                json={"subject": f"bench-{secrets.token_hex(6)}", "nickname": f"bench-{number}"},
            )
            if response.status_code != 200:
                raise StackError(f"local sign-in refused ({response.status_code}): {response.text[:200]}")
            tokens.append(str(response.json()["access_token"]))
    return tokens


def user_id_of(token: str) -> Any:
    from apps.core.access_tokens import key_ring, verify_access_token
    from apps.core.settings import get_settings

    settings = get_settings()
    return verify_access_token(token, key_ring(settings), settings.token_issuer).id
