"""`ecoeco`: run services and workers, migrate, scan a photo against a running stack, re-drive dead jobs."""

from __future__ import annotations

import argparse
import json
import mimetypes
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
    uvicorn.run(create_app(domains), host=args.host, port=args.port, log_level="info", proxy_headers=True)
    return 0


def _migrate(_: argparse.Namespace) -> int:
    from apps.core.migrate import upgrade

    upgrade()
    print("database schema is up to date")
    return 0


def _init_storage(args: argparse.Namespace) -> int:
    from apps.core.storage import ensure_bucket, get_s3_client

    settings = get_settings()
    ensure_bucket(get_s3_client(), settings.s3_bucket, settings.s3_region, args.origin)
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
    from apps.waste.analysis.classifier.artifacts import DEFAULT_ARTIFACTS_DIR, MODEL_FILE, load_manifest
    from apps.waste.analysis.classifier.fit import DEFAULT_TARGET_ACCURACY
    from apps.waste.feedback.service import labelled_scans

    artifacts: Path = args.artifacts or DEFAULT_ARTIFACTS_DIR
    target: float = args.target_accuracy or DEFAULT_TARGET_ACCURACY
    backbone = load_manifest(artifacts)["files"][MODEL_FILE]["sha256"]
    with Session(get_engine()) as session:
        scans = labelled_scans(session, backbone)
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
    with httpx.Client(base_url=api, timeout=30) as client:
        if token is None:
            issued = client.post("/api/v1/auth/dev-token", json={"display_name": "ecoeco-cli"})
            if issued.status_code != 201:
                raise ScanFailed(f"could not get a development token ({issued.status_code}); pass --token")
            token = issued.json()["access_token"]
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


def _scan(args: argparse.Namespace) -> int:
    try:
        job = scan(args.api, args.photo, args.hint, args.token, args.near, args.timeout)
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
        "--origin", action="append", default=["http://localhost:5173", "http://127.0.0.1:8000"]
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

    scan_parser = commands.add_parser("scan", help="scan a photo against a running stack")
    scan_parser.add_argument("photo", type=Path)
    scan_parser.add_argument("--hint", help="free text, e.g. 우유팩")
    scan_parser.add_argument(
        "--near", type=coordinates, metavar="LAT,LNG", help="where you are, for the nearest collection points"
    )
    scan_parser.add_argument("--api", default=DEFAULT_API)
    scan_parser.add_argument("--token", help="bearer token (default: a development token, local stacks only)")
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
