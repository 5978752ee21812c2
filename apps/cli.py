"""`ecoeco`: run services and workers, migrate, sign in, scan a photo against a running stack, re-drive dead
jobs."""

from __future__ import annotations

import argparse
import getpass
import json
import mimetypes
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from apps.core.settings import get_settings

DEFAULT_API = "http://127.0.0.1:8000"


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from apps.main import DOMAIN_ROUTERS, create_app

    domains = list(DOMAIN_ROUTERS) if args.service == "all" else [args.service]
    # The app configures logging (JSON lines, one line per request): uvicorn configures none.
    app = create_app(domains)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False, proxy_headers=True)
    return 0


def _migrate(_: argparse.Namespace) -> int:
    from apps.core.migrate import upgrade

    upgrade()
    print("database schema is up to date")
    return 0


def _init_storage(args: argparse.Namespace) -> int:
    from apps.core.storage import ensure_bucket, get_s3_client

    settings = get_settings()
    # One list of web origins: the API's CORS and the bucket's.
    origins = args.origin or settings.cors_origins
    ensure_bucket(get_s3_client(), settings.s3_bucket, settings.s3_region, origins)
    print(f"bucket {settings.s3_bucket} is ready")
    return 0


def _local_s3(args: argparse.Namespace) -> int:
    """An embedded S3 server for local runs (moto, a dev dependency)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    print(f"embedded S3 listening on http://{args.host}:{args.port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


def _redrive(args: argparse.Namespace) -> int:
    from apps.waste.tasks import redrive_dead_jobs

    ids = [uuid.UUID(value) for value in args.job] if args.job else None
    redriven = redrive_dead_jobs(ids)
    print(f"re-drove {len(redriven)} dead job(s)" + "".join(f"\n  {job_id}" for job_id in redriven))
    return 0


def _sweep(_: argparse.Namespace) -> int:
    from apps.waste.tasks import sweep_stuck_jobs

    print(f"re-published {sweep_stuck_jobs()} stuck job(s)")
    return 0


def _classifier_retrain(args: argparse.Namespace) -> int:
    """Refit the embedded head on TrashNet's stored features plus labelled scans (numpy + the database)."""
    from sqlmodel import Session

    from apps.core.db import get_engine
    from apps.waste.analysis.classifier import retrain as retraining
    from apps.waste.analysis.classifier.artifacts import DEFAULT_ARTIFACTS_DIR, backbone_sha256
    from apps.waste.analysis.classifier.fit import DEFAULT_TARGET_ACCURACY
    from apps.waste.feedback.service import labelled_scans

    artifacts: Path = args.artifacts or DEFAULT_ARTIFACTS_DIR
    target: float = args.target_accuracy or DEFAULT_TARGET_ACCURACY
    with Session(get_engine()) as session:
        scans = labelled_scans(session, backbone_sha256(artifacts))  # only this backbone's features
    current = args.head or get_settings().classifier_head
    print(f"{len(scans)} labelled scan(s); current head {current}; fixed test split from the stored features")
    try:
        outcome = retraining.retrain(artifacts, current, scans, target)
    except retraining.RetrainRefused as refused:
        print(f"refused: {refused}", file=sys.stderr)
        return 1
    print(f"scans used {outcome.scans_used}, skipped {outcome.scans_skipped} (no head class)")
    print(f"before: {outcome.before.summary()}\nafter:  {outcome.after.summary()}")
    if args.dry_run:
        return 0
    name = retraining.publish(artifacts, outcome)
    print(f"wrote {artifacts / name} (manifest updated); select it with ECO2_CLASSIFIER_HEAD={name}")
    return 0


class ScanFailed(Exception):
    pass


def credentials_path(explicit: Path | None = None) -> Path:
    if explicit is not None:
        return explicit
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "ecoeco" / "credentials.json"


def _save_credentials(path: Path, api: str, tokens: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = {
        "api": api,
        "user_id": tokens["user_id"],
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "expires_at": time.time() + float(tokens["expires_in"]),
    }
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # tokens: owner only
    with os.fdopen(descriptor, "w") as file:
        json.dump(stored, file)


def login(api: str, subject: str, nickname: str | None, path: Path) -> str:
    """Sign in with the local provider of a local stack and keep the tokens; returns the user id."""
    with httpx.Client(base_url=api, timeout=30) as client:
        response = client.post("/api/v1/auth/local/token", json={"subject": subject, "nickname": nickname})
    if response.status_code != 200:
        detail = (
            response.json().get("detail")
            if response.headers.get("content-type") == "application/json"
            else ""
        )
        raise ScanFailed(f"sign-in refused ({response.status_code}): {detail or response.text[:200]}")
    _save_credentials(path, api, response.json())
    return str(response.json()["user_id"])


def stored_token(api: str, path: Path) -> str | None:
    """The saved access token for this API, refreshed (rotating the refresh token) when it has expired."""
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if stored.get("api") != api:
        return None
    if stored["expires_at"] - 30 > time.time():
        return str(stored["access_token"])
    with httpx.Client(base_url=api, timeout=30) as client:
        response = client.post("/api/v1/auth/refresh", json={"refresh_token": stored["refresh_token"]})
    if response.status_code != 200:
        return None
    _save_credentials(path, api, response.json())
    return str(response.json()["access_token"])


def scan(
    api: str,
    photo: Path,
    hint: str | None,
    token: str | None,
    near: tuple[float, float] | None = None,
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Upload a photo to a running stack, request its analysis and wait for the answer."""
    content_type = mimetypes.guess_type(photo.name)[0] or "application/octet-stream"
    data = photo.read_bytes()
    if token is None:
        raise ScanFailed("not signed in: run `ecoeco login` (local stacks) or pass --token")
    with httpx.Client(base_url=api, timeout=30) as client:
        auth = {"Authorization": f"Bearer {token}"}
        reserved = client.post(
            "/api/v1/waste/uploads",
            json={"content_type": content_type, "size_bytes": len(data)},
            headers=auth,
        )
        if reserved.status_code != 201:
            raise ScanFailed(f"upload refused ({reserved.status_code}): {reserved.json().get('detail')}")
        slot = reserved.json()
        sent = httpx.post(
            slot["upload_url"], data=slot["upload_fields"], files={"file": (photo.name, data, content_type)}
        )
        if sent.status_code not in (200, 204):
            raise ScanFailed(f"storage refused the photo ({sent.status_code}): {sent.text[:200]}")
        body: dict[str, Any] = {"upload_id": slot["upload_id"]}
        if hint:
            body["hint"] = hint
        if near:
            body["latitude"], body["longitude"] = near
        accepted = client.post("/api/v1/waste/analyses", json=body, headers=auth)
        if accepted.status_code != 202:
            raise ScanFailed(f"analysis refused ({accepted.status_code}): {accepted.json().get('detail')}")
        deadline = time.monotonic() + timeout
        while True:
            job: dict[str, Any] = client.get(accepted.json()["poll_url"], headers=auth).json()
            if job["status"] in {"succeeded", "failed", "dead"}:
                return job
            if time.monotonic() > deadline:
                raise ScanFailed(f"no answer after {timeout:.0f} s (job {job['job_id']} is {job['status']})")
            time.sleep(0.25)


def format_answer(job: dict[str, Any]) -> str:
    if job["status"] != "succeeded":
        return f"analysis {job['status']}: {job.get('error')}"
    answer = job["result"]["answer"]
    classification = answer["classification"]
    lines = [
        f"분류: {answer.get('category_label') or '확실하지 않음'} "
        f"(신뢰도 {classification['confidence']:.0%}, {classification['source']})",
        answer["reply"],
    ]
    lines += [f"  {number}. {step}" for number, step in enumerate(answer["steps"], start=1)]
    if answer["prepare"]:
        lines.append("먼저 할 일: " + "; ".join(answer["prepare"]))
    for point in job["result"].get("collection_points", []):
        lines.append(f"가까운 수거 장소: {point['name']} ({point['distance_m']:.0f} m) {point['address']}")
    return "\n".join(lines)


def _login(args: argparse.Namespace) -> int:
    path = credentials_path(args.credentials)
    try:
        user_id = login(args.api, args.subject, args.nickname, path)
    except (ScanFailed, httpx.HTTPError) as error:
        print(f"login failed: {error}", file=sys.stderr)
        return 1
    print(f"signed in to {args.api} as user {user_id}; tokens saved in {path}")
    return 0


def _scan(args: argparse.Namespace) -> int:
    try:
        token = args.token or stored_token(args.api, credentials_path(args.credentials))
        job = scan(args.api, args.photo, args.hint, token, args.near, args.timeout)
    except (ScanFailed, httpx.HTTPError, OSError) as error:
        print(f"scan failed: {error}", file=sys.stderr)
        return 1
    print(json.dumps(job, ensure_ascii=False, indent=2) if args.json else format_answer(job))
    return 0 if job["status"] == "succeeded" else 1


def coordinates(text: str) -> tuple[float, float]:
    try:
        latitude, longitude = (float(part) for part in text.split(","))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected LAT,LNG (e.g. 37.5663,126.9779), got {text!r}") from error
    return latitude, longitude


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecoeco", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run one API service, or all of them as the gateway")
    serve.add_argument("service", choices=["all", "auth", "users", "waste", "recycling", "locations"])
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=_serve)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(handler=_migrate)

    storage = commands.add_parser("init-storage", help="create the image bucket if missing (local S3)")
    storage.add_argument(
        "--origin", action="append", help="allowed web origin (repeatable); default: ECO2_CORS_ORIGINS"
    )
    storage.set_defaults(handler=_init_storage)

    local_s3 = commands.add_parser("local-s3", help="run the embedded S3 server (development)")
    local_s3.add_argument("--host", default="127.0.0.1")
    local_s3.add_argument("--port", type=int, default=9000)
    local_s3.set_defaults(handler=_local_s3)

    redrive = commands.add_parser("redrive", help="re-queue dead analysis jobs")
    redrive.add_argument("--job", action="append", help="job id (repeatable); default: every dead job")
    redrive.set_defaults(handler=_redrive)

    commands.add_parser("sweep", help="re-publish jobs stuck in queued").set_defaults(handler=_sweep)

    login_parser = commands.add_parser(
        "login", help="sign in to a local stack with its local sign-in provider and keep the tokens"
    )
    login_parser.add_argument("--api", default=DEFAULT_API)
    login_parser.add_argument(
        "--subject",
        default=f"cli-{getpass.getuser()}",
        help="who you are to the local provider (same → same user)",
    )
    login_parser.add_argument("--nickname")
    login_parser.add_argument(
        "--credentials", type=Path, help="where to keep the tokens (default: ~/.config/ecoeco)"
    )
    login_parser.set_defaults(handler=_login)

    scan_parser = commands.add_parser("scan", help="scan a photo against a running stack")
    scan_parser.add_argument("photo", type=Path)
    scan_parser.add_argument("--hint", help="free text, e.g. 우유팩")
    scan_parser.add_argument(
        "--near", type=coordinates, metavar="LAT,LNG", help="where you are, for the nearest collection points"
    )
    scan_parser.add_argument("--api", default=DEFAULT_API)
    scan_parser.add_argument("--token", help="bearer token (default: the one `ecoeco login` saved)")
    scan_parser.add_argument("--credentials", type=Path, help="tokens saved by `ecoeco login --credentials`")
    scan_parser.add_argument("--timeout", type=float, default=60.0)
    scan_parser.add_argument("--json", action="store_true", help="print the raw job")
    scan_parser.set_defaults(handler=_scan)

    classifier = commands.add_parser("classifier", help="the embedded classifier's head")
    classifier_commands = classifier.add_subparsers(dest="classifier_command", required=True)
    retrain = classifier_commands.add_parser(
        "retrain",
        help="refit the head on TrashNet + labelled scans; refused if worse on the fixed test split",
    )
    retrain.add_argument("--artifacts", type=Path, help="where heads live (default: the package's artifacts)")
    retrain.add_argument("--head", help="the head to compare against (default: ECO2_CLASSIFIER_HEAD)")
    retrain.add_argument(
        "--target-accuracy", type=float, help="answered-share accuracy to calibrate for (default 0.93)"
    )
    retrain.add_argument("--dry-run", action="store_true", help="report before/after; write nothing")
    retrain.set_defaults(handler=_classifier_retrain)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Any = args.handler
    return int(handler(args))


if __name__ == "__main__":
    sys.exit(main())
