"""Run the app workloads from their manifests with `podman kube play`, wait until they are ready, scan a photo
through them, and tear everything down (also on failure)."""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.image_test import checks, podman
from tools.image_test.manifests import Manifest, app_workloads, containers, effective_env, is_api, name_of
from tools.image_test.substitute import Machine, localize

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_PHOTO = REPO_ROOT / "apps" / "samples" / "pet-bottle.jpg"
REDIS_DATABASE = 14  # the test suite uses 15
# The settings a token's claims depend on, taken from the waste API's environment when it sets them.
TOKEN_SETTINGS = ("token_signing_key_id", "token_issuer", "access_token_ttl_seconds")
SETTLE_SECONDS = 20.0  # a container without a probe (celery beat) must stay up this long


class ImageTestFailed(RuntimeError):
    """A workload did not start, did not become ready, or the scan failed; the message says which and why."""


@dataclass(frozen=True)
class Result:
    ready_seconds: float
    first_answer_seconds: float
    answer: dict[str, Any]


Variant = Callable[[list[Manifest]], list[Manifest]]


def run(
    plan: Sequence[Manifest],
    image: str,
    namespace: str,
    *,
    timeout: float,
    scan: bool = True,
    variant: Variant | None = None,
) -> Result:
    """The whole check. ``variant`` alters the rendered manifests first (the self-check's broken ones)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-ups on `kill` too
    rendered = app_workloads(plan, namespace)
    if variant is not None:
        rendered = variant(rendered)
    workdir = REPO_ROOT / ".local" / "image-test" / secrets.token_hex(4)
    workdir.mkdir(parents=True)
    listeners = [
        (name_of(m), port["containerPort"])
        for m in sorted(rendered, key=lambda m: not is_api(m))  # the APIs take the first ports
        if m["kind"] == "Deployment"
        for c in containers(m)
        for port in c.get("ports", [])
    ]
    with local_services(listeners) as machine:
        manifests = localize(rendered, machine)
        _check_security(manifests, image)
        buckets = {
            env["ECO2_S3_BUCKET"]
            for m in manifests
            for c in containers(m)
            if "ECO2_S3_BUCKET" in (env := effective_env(c, manifests))
        }
        for bucket in buckets:
            init_bucket(machine, bucket)
        for reference in {c["image"] for m in manifests for c in containers(m)}:
            podman.tag(image, reference)
        config = [m for m in manifests if m["kind"] == "ConfigMap"]
        jobs = [m for m in manifests if m["kind"] == "Pod"]
        deployments = [m for m in manifests if m["kind"] == "Deployment"]
        files = [
            _write(workdir / "migration.yaml", config + jobs),
            _write(workdir / "workloads.yaml", config + deployments),
        ]
        with _secrets([m for m in manifests if m["kind"] == "Secret"], workdir):
            return _play_all(files, jobs, deployments, manifests, machine, timeout=timeout, scan=scan)


def _play_all(
    files: list[Path],
    jobs: list[Manifest],
    deployments: list[Manifest],
    manifests: list[Manifest],
    machine: Machine,
    *,
    timeout: float,
    scan: bool,
) -> Result:
    """Migration first (as the Job runs before the rollout), then the Deployments; always `kube down`."""
    try:
        if jobs:
            _play(files[0])
            for job in jobs:
                _wait_for_job(job, timeout)
        started = time.monotonic()
        _play(files[1])
        _wait_until_ready(deployments, machine, timeout)
        ready = time.monotonic() - started
        answer = _scan(manifests, machine) if scan else {}
        return Result(ready, time.monotonic() - started, answer)
    finally:
        for path in reversed(files):
            podman.down(path)


def _write(path: Path, manifests: list[Manifest]) -> Path:
    path.write_text("\n---\n".join(json.dumps(manifest) for manifest in manifests) + "\n", encoding="utf-8")
    return path


@contextmanager
def _secrets(manifests: Sequence[Manifest], workdir: Path) -> Iterator[None]:
    """Each Secret as a podman secret in the form podman 4.3's secretRef/secretKeyRef reads: a JSON object of
    key → base64 value. (Played from the file instead, podman 4.3 stores the Secret re-serialised as YAML and
    then fails to read it back: "secret ... is not valid JSON".)"""
    created = []
    try:
        for secret in manifests:
            data = dict(secret.get("data", {}))
            data |= {
                key: base64.b64encode(value.encode()).decode()
                for key, value in secret.get("stringData", {}).items()
            }
            path = _write(workdir / f"secret-{name_of(secret)}.json", [data])
            podman.podman("secret", "create", name_of(secret), str(path))
            created.append(name_of(secret))
        yield
    finally:
        for name in created:
            podman.podman("secret", "rm", name, check=False)


def _play(path: Path) -> None:
    try:
        podman.play(path)
    except podman.PodmanError as error:
        raise ImageTestFailed(f"podman kube play refused {path.name}: {error}") from error


def _check_security(manifests: Sequence[Manifest], image: str) -> None:
    user = podman.image_user(image)
    problems = [
        problem
        for m in manifests
        if m["kind"] in ("Pod", "Deployment")
        for problem in checks.security_problems(m, user)
    ]
    if problems:
        raise ImageTestFailed(
            "the image cannot honour the manifests' security context:\n  " + "\n  ".join(problems)
        )


def container_name(manifest: Manifest, container: dict[str, Any]) -> str:
    """podman's name for a played container: <pod>-<container>; a Deployment's pod is <name>-pod-0."""
    pod = f"{name_of(manifest)}-pod-0" if manifest["kind"] == "Deployment" else name_of(manifest)
    return f"{pod}-{container['name']}"


def _failure(manifest: Manifest, container: dict[str, Any], what: str) -> ImageTestFailed:
    name = container_name(manifest, container)
    return ImageTestFailed(
        f"{manifest['kind']} {name_of(manifest)}, container {container['name']}: {what}\n"
        f"--- last log lines of {name} ---\n{podman.logs(name)}"
    )


def _wait_for_job(job: Manifest, timeout: float) -> None:
    (container,) = job["spec"]["containers"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = podman.state(container_name(job, container))
        if current is not None and current.status in ("exited", "stopped"):
            if current.exit_code == 0:
                print(f"migration {name_of(job)} completed", flush=True)
                return
            raise _failure(job, container, f"the migration Job failed (exit code {current.exit_code})")
        time.sleep(0.5)
    raise _failure(job, container, f"the migration Job did not complete within {timeout:.0f} s")


def _wait_until_ready(deployments: Sequence[Manifest], machine: Machine, timeout: float) -> None:
    """Readiness probes as declared; a worker must consume; a container without either must stay up for
    SETTLE_SECONDS from when it was first seen running; no container may ever exit or restart."""
    pending = {
        (name_of(m), c["name"]): (m, c)
        for m in deployments
        for c in m["spec"]["template"]["spec"]["containers"]
    }
    running_since: dict[tuple[str, str], float] = {}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for key, (manifest, container) in list(pending.items()):
            name = container_name(manifest, container)
            current = podman.state(name)
            if current is not None and (current.status in ("exited", "stopped") or current.restarts > 0):
                raise _failure(
                    manifest, container, f"exited with code {current.exit_code} before it was ready"
                )
            if current is None or current.status != "running":
                continue
            since = running_since.setdefault(key, time.monotonic())
            if _is_ready(manifest, container, name, machine, time.monotonic() - since):
                print(f"ready: {name_of(manifest)}/{container['name']}", flush=True)
                del pending[key]
        time.sleep(0.5)
    if pending:
        missing = ", ".join(f"{deployment}/{container}" for deployment, container in pending)
        manifest, container = next(iter(pending.values()))
        raise _failure(manifest, container, f"not ready within {timeout:.0f} s (still waiting for {missing})")


def worker_queues(container: dict[str, Any]) -> list[str]:
    """The queues a `celery ... worker` container consumes (-Q/--queues), or [] for any other container."""
    words: list[str] = [*container.get("command", []), *container.get("args", [])]
    if "celery" not in " ".join(words) or "worker" not in words:
        return []
    for index, word in enumerate(words):
        if word in ("-Q", "--queues") and index + 1 < len(words):
            return words[index + 1].split(",")
        if word.startswith("--queues="):
            return word.removeprefix("--queues=").split(",")
    return ["default"]


def _is_ready(manifest: Manifest, container: dict[str, Any], name: str, machine: Machine, up: float) -> bool:
    """Kubernetes' order: the readiness probe if declared, else the startup probe, else running; a worker
    must also have a consumer on each of its queues; a container with no probe must stay up SETTLE_SECONDS."""
    probe = container.get("readinessProbe") or container.get("startupProbe")
    if probe is not None and not checks.probe_check(container, probe, lambda cmd: podman.exec_in(name, cmd)):
        return False
    queues = worker_queues(container)
    if queues:
        return _queues_have_consumers(machine, queues)
    return probe is not None or up >= SETTLE_SECONDS


def _queues_have_consumers(machine: Machine, queues: Sequence[str]) -> bool:
    vhost = machine.broker_url.rsplit("/", 1)[1]
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "consumers"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    consumers = dict(line.split("\t")[:2] for line in listed.stdout.splitlines() if "\t" in line)
    return all(consumers.get(queue, "0").strip() not in ("0", "") for queue in queues)


def _scan(manifests: Sequence[Manifest], machine: Machine) -> dict[str, Any]:
    """One photo → answer through the containers: a user, a token signed with the manifests' secret, then the
    CLI's scan (upload slot, presigned POST to S3, analysis request, poll)."""
    from pydantic import SecretStr
    from sqlmodel import Session, create_engine

    from apps.auth.tokens import start_session
    from apps.cli import ScanFailed, scan
    from apps.core.access_tokens import key_ring
    from apps.core.settings import Settings
    from apps.users.service import create_user

    waste = next(m for m in manifests if is_api(m) and "waste" in _words(m))
    env = effective_env(waste["spec"]["template"]["spec"]["containers"][0], manifests)
    overrides: dict[str, Any] = {
        name: env[f"ECO2_{name.upper()}"] for name in TOKEN_SETTINGS if f"ECO2_{name.upper()}" in env
    }
    settings = Settings.model_validate(
        {**overrides, "token_signing_key": SecretStr(machine.token_signing_key)}
    )
    engine = create_engine(machine.database_url)
    with Session(engine) as session:
        user_id = create_user(session, "image-test").id
        token = start_session(session, key_ring(settings), settings, user_id, browser=False).access_token
    engine.dispose()
    (port,) = machine.ports[name_of(waste)].values()
    api = f"http://127.0.0.1:{port}"
    try:
        job = scan(api, SAMPLE_PHOTO, "라벨 있는 페트병", token, timeout=120)
    except (ScanFailed, ValueError) as error:  # ValueError: an answer that is not JSON
        (container,) = waste["spec"]["template"]["spec"]["containers"]
        raise _failure(waste, container, f"the scan through the containers failed: {error!r}") from error
    if job["status"] != "succeeded":
        raise ImageTestFailed(f"the scan ended {job['status']}: {job.get('error')}")
    return job


def _words(manifest: Manifest) -> list[str]:
    return [word for c in containers(manifest) for word in c.get("command", []) + c.get("args", [])]


@contextmanager
def local_services(listeners: Sequence[tuple[str, int]]) -> Iterator[Machine]:
    """A throwaway database and vhost, an embedded S3 server and a local port per (Deployment, containerPort):
    consecutive from ECO2_IMAGE_TEST_API_PORT when set, else free ones. All removed afterwards."""
    from tests.support.provisioning import (
        create_database,
        create_vhost,
        delete_vhost,
        drop_database,
        free_port,
    )

    run_id = secrets.token_hex(4)
    name = f"eco2_image_test_{run_id}"
    s3_port = int(os.environ.get("ECO2_IMAGE_TEST_S3_PORT") or free_port())
    first_port = int(os.environ.get("ECO2_IMAGE_TEST_API_PORT") or 0)
    ports = [first_port + offset if first_port else free_port() for offset in range(len(listeners))]
    for port in [s3_port, *ports]:
        _require_free(port)
    bin_dir = Path(sys.executable).parent
    create_database(name)
    create_vhost(name)
    s3 = subprocess.Popen(
        [bin_dir / "ecoeco", "local-s3", "--port", str(s3_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        machine = Machine(
            database_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
            broker_url=f"amqp://guest:guest@127.0.0.1:5672/{name}",
            redis_url=f"redis://127.0.0.1:6379/{REDIS_DATABASE}",
            s3_endpoint_url=f"http://127.0.0.1:{s3_port}",
            ports=_port_moves(listeners, ports),
            **_signing_key(),
        )
        yield machine
    finally:
        s3.terminate()
        s3.wait(timeout=30)
        delete_vhost(name)
        drop_database(name)


def init_bucket(machine: Machine, bucket: str) -> None:
    env = {**os.environ, **machine.s3(), "ECO2_S3_BUCKET": bucket}
    ecoeco = Path(sys.executable).parent / "ecoeco"
    for _ in range(60):
        if (
            subprocess.run([ecoeco, "init-storage"], env=env, capture_output=True, check=False).returncode
            == 0
        ):
            return
        time.sleep(0.5)
    raise ImageTestFailed(f"the embedded S3 server at {machine.s3_endpoint_url} did not come up")


def _signing_key() -> dict[str, str]:
    """A fresh Ed25519 key pair (PEM) for this run's tokens."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {"token_signing_key": private.decode(), "token_public_key": public.decode()}


def _port_moves(listeners: Sequence[tuple[str, int]], ports: Sequence[int]) -> dict[str, dict[int, int]]:
    moves: dict[str, dict[int, int]] = {}
    for (deployment, old), new in zip(listeners, ports, strict=True):
        moves.setdefault(deployment, {})[old] = new
    return moves


def _require_free(port: int) -> None:
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is fine
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise ImageTestFailed(
                f"port {port} is taken on 127.0.0.1; choose others (docs/delivery.md)"
            ) from error
