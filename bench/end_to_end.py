"""Photo → answer latency with the embedded classifier, through the whole scan flow, on an isolated stack.

    .venv/bin/python -m bench.end_to_end [--scans 50] [--concurrent 4] [--worker-concurrency 2] [--no-docs]

Each scan is what the app does: reserve an upload (POST uploads), send the photo to storage with the presigned
POST, request the analysis (POST analyses), then poll GET analyses every 50 ms until the job is finished.
Client-side latency is measured from the reservation to the poll that sees the answer. The server-side measure
comes from the job row: created_at → finished_at (queue wait + analysis), split at started_at.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from bench import load, report
from bench.load import CpuMeter, CpuUse
from bench.scan_data import Photo, load_photo
from bench.stack import Service, Stack, issue_tokens
from tests.support.provisioning import ProvisioningError

POLL_INTERVAL_S = 0.05
SCAN_TIMEOUT_S = 60.0
P50_GOAL_S = 1.0
P95_GOAL_S = 2.0
# Seoul City Hall: the answer then also lists the nearest collection points, as for a person in Seoul.
LOCATION = {"latitude": 37.5663, "longitude": 126.9779}


class ScanFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Scan:
    """One photo → answer, in seconds. Client phases, then the server-side phases from the job row."""

    reserve_s: float
    upload_s: float
    submit_s: float
    wait_s: float  # from the accepted submission to the poll that saw the answer
    total_s: float
    queued_s: float  # job created → claimed by a worker
    analysis_s: float  # claimed → finished (read the photo, classify, compose the answer)
    server_s: float  # created → finished
    answer: str  # "confident <category>" or "uncertain", as the analyzer answered


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.end_to_end", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scans", type=int, default=50, help="sequential scans")
    parser.add_argument("--concurrent", type=int, default=4, help="clients scanning at the same time")
    parser.add_argument("--concurrent-scans", type=int, default=10, help="scans per concurrent client")
    parser.add_argument("--warm-up", type=int, default=3, help="unmeasured scans first")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument(
        "--api-factory", default="apps.main:create_gateway", help="ASGI app factory of the API under test"
    )
    parser.add_argument("--photo", type=Path, help="JPEG to scan (default: apps/samples/, else generated)")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    return parser.parse_args(argv)


def _timestamps(job_id: str) -> tuple[datetime, datetime, datetime]:
    """created_at, started_at, finished_at of a finished job, from its row."""
    from sqlmodel import Session

    from apps.core.db import get_engine
    from apps.waste.models import AnalysisJob

    with Session(get_engine()) as session:
        job = session.get(AnalysisJob, job_id)
        if job is None or job.started_at is None or job.finished_at is None:
            raise ScanFailed(f"job {job_id} has no start or finish time")
        return job.created_at, job.started_at, job.finished_at


def _answer_kind(classification: dict[str, Any]) -> str:
    if classification["status"] == "confident":
        return f"confident {classification['category']} ({classification['source']})"
    return f"uncertain ({classification['source']})"


def scan(api: httpx.Client, token: str, photo: Photo) -> Scan:
    """One scan as the app performs it; raises ScanFailed unless the analysis succeeds."""
    auth = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    reserved = api.post(
        "/api/v1/waste/uploads",
        json={"content_type": photo.content_type, "size_bytes": len(photo.data)},
        headers=auth,
    )
    if reserved.status_code != 201:
        raise ScanFailed(f"upload reservation refused ({reserved.status_code}): {reserved.text[:200]}")
    slot = reserved.json()
    reserved_at = time.perf_counter()
    sent = api.post(
        slot["upload_url"],
        data=slot["upload_fields"],
        files={"file": ("photo.jpg", photo.data, photo.content_type)},
    )
    if sent.status_code not in (200, 204):
        raise ScanFailed(f"storage refused the photo ({sent.status_code}): {sent.text[:200]}")
    uploaded_at = time.perf_counter()
    accepted = api.post(
        "/api/v1/waste/analyses", json={"upload_id": slot["upload_id"], **LOCATION}, headers=auth
    )
    if accepted.status_code != 202:
        raise ScanFailed(f"analysis refused ({accepted.status_code}): {accepted.text[:200]}")
    submitted_at = time.perf_counter()
    poll_url = accepted.json()["poll_url"]
    while True:
        job: dict[str, Any] = api.get(poll_url, headers=auth).json()
        if job["status"] in {"succeeded", "failed", "dead"}:
            break
        if time.perf_counter() - submitted_at > SCAN_TIMEOUT_S:
            raise ScanFailed(
                f"no answer after {SCAN_TIMEOUT_S:.0f} s (job {job['job_id']} is {job['status']})"
            )
        time.sleep(POLL_INTERVAL_S)
    answered_at = time.perf_counter()
    if job["status"] != "succeeded":
        raise ScanFailed(f"analysis {job['status']}: {job.get('error')}")
    created, claimed, finished = _timestamps(job["job_id"])
    return Scan(
        reserve_s=reserved_at - started,
        upload_s=uploaded_at - reserved_at,
        submit_s=submitted_at - uploaded_at,
        wait_s=answered_at - submitted_at,
        total_s=answered_at - started,
        queued_s=(claimed - created).total_seconds(),
        analysis_s=(finished - claimed).total_seconds(),
        server_s=(finished - created).total_seconds(),
        answer=_answer_kind(job["result"]["answer"]["classification"]),
    )


@dataclass
class Series:
    label: str
    scans: list[Scan]
    wall_s: float
    cpu: CpuUse


def run_series(
    label: str, api_url: str, tokens: list[str], photo: Photo, clients: int, per_client: int, meter: CpuMeter
) -> Series:
    def client(token: str) -> list[Scan]:
        with httpx.Client(base_url=api_url, timeout=30) as api:
            return [scan(api, token, photo) for _ in range(per_client)]

    meter.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        per_token = list(pool.map(client, tokens[:clients]))
    wall = time.perf_counter() - started
    series = Series(label, [one for scans in per_token for one in scans], wall, meter.stop())
    p50, p95 = quantile(series, "total_s", 50), quantile(series, "total_s", 95)
    print(
        f"  {label}: {len(series.scans)} scans in {wall:.1f} s, "
        f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
    )
    return series


def quantile(series: Series, phase: str, rank: float) -> float:
    return load.percentile(sorted(getattr(one, phase) for one in series.scans), rank)


PHASES = (
    ("total_s", "photo → answer (client)"),
    ("reserve_s", "POST uploads"),
    ("upload_s", "presigned POST to S3"),
    ("submit_s", "POST analyses"),
    ("wait_s", "polling until the answer"),
    ("server_s", "job created → finished (row)"),
    ("queued_s", "… waiting in the queue"),
    ("analysis_s", "… in the worker"),
)


def render(args: argparse.Namespace, photo: Photo, series: list[Series], groups: list[str]) -> str:
    header = ["phase"]
    for one in series:
        header += [f"{one.label} p50 ms", "p95 ms", "max ms"]
    rows = []
    for phase, name in PHASES:
        row = [name]
        for one in series:
            values = sorted(getattr(scan, phase) for scan in one.scans)
            row += [f"{load.percentile(values, rank) * 1000:.0f}" for rank in (50, 95)]
            row.append(f"{values[-1] * 1000:.0f}")
        rows.append(row)
    goals = []
    for one in series:
        p50, p95 = quantile(one, "total_s", 50), quantile(one, "total_s", 95)
        goals.append(
            [
                f"{one.label}: p50 ≤ {P50_GOAL_S:.0f} s",
                f"{p50 * 1000:.0f} ms",
                report.verdict(p50 <= P50_GOAL_S),
            ]
        )
        goals.append(
            [
                f"{one.label}: p95 ≤ {P95_GOAL_S:.0f} s",
                f"{p95 * 1000:.0f} ms",
                report.verdict(p95 <= P95_GOAL_S),
            ]
        )
    cpu_rows = [
        [group]
        + [
            f"{one.cpu.cores(group):.2f} "
            f"({one.cpu.seconds.get(group, 0.0) / len(one.scans) * 1000:.0f} ms/scan)"
            for one in series
        ]
        for group in [*groups, load.INTERRUPTS, load.STEAL, load.OTHER, load.MACHINE]
    ]
    answers = Counter(scan.answer for one in series for scan in one.scans)
    throughput = "; ".join(f"{one.label}: {len(one.scans) / one.wall_s:.1f} scans/s" for one in series)
    from apps.core.settings import get_settings  # the settings the stack's processes were started with

    threads = get_settings().classifier_threads
    parts = [
        "Setup: gateway as one uvicorn process; Celery worker "
        f"`--concurrency {args.worker_concurrency}` (prefork, embedded classifier, {threads} ONNX "
        f"thread(s) per process); embedded S3; photo {photo.describe()}, sent with a location; "
        f"polling every {POLL_INTERVAL_S * 1000:.0f} ms; {args.warm_up} unmeasured scans first. "
        f"Answers: {', '.join(f'{kind} ×{count}' for kind, count in answers.most_common())}. "
        f"Throughput: {throughput}.",
        report.table(header, rows),
        "#### Goals",
        report.table(["goal", "measured", "verdict"], goals),
        "#### CPU (cores busy during the series; CPU per scan)",
        report.table(["process group", *(one.label for one in series)], cpu_rows),
    ]
    return "\n\n".join(parts)


def measure(args: argparse.Namespace, photo: Photo) -> tuple[list[Series], list[str]]:
    """Stand the stack up, run the warm-up and both series, tear it down; the series and the CPU groups."""
    with Stack() as stack:
        print(f"stack {stack.run_id}: database {stack.database}, vhost {stack.vhost}, logs {stack.log_dir}")
        gateway = stack.start_api("gateway", args.api_factory, 1, "/readyz")
        worker = stack.start_worker(args.worker_concurrency)
        services: dict[str, Service] = {
            "API (gateway)": gateway,
            "Celery worker": worker,
            "embedded S3 (moto)": stack.service("s3"),
        }
        meter = CpuMeter(
            load.stack_groups(
                {name: partial(getattr, service, "session_id") for name, service in services.items()}
            )
        )
        assert gateway.url is not None
        tokens = issue_tokens(gateway.url, max(args.concurrent, 1))
        with httpx.Client(base_url=gateway.url, timeout=30) as api:
            for _ in range(args.warm_up):
                scan(api, tokens[0], photo)
        concurrent = f"{args.concurrent} concurrent"
        series = [
            run_series("sequential", gateway.url, tokens, photo, 1, args.scans, meter),
            run_series(concurrent, gateway.url, tokens, photo, args.concurrent, args.concurrent_scans, meter),
        ]
    return series, [*services, "PostgreSQL", "RabbitMQ", "bench client"]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    try:
        photo = load_photo(args.photo)
        series, groups = measure(args, photo)
    except (ProvisioningError, ScanFailed, httpx.HTTPError, OSError, ValueError) as error:
        print(f"bench.end_to_end failed (the stack was removed): {error}", file=sys.stderr)
        return 1
    markdown = report.section(
        "bench.end_to_end", "Photo → answer, end to end", render(args, photo, series, groups)
    )
    raw = {
        one.label: {"wall_s": one.wall_s, "cpu": vars(one.cpu), "scans": [vars(scan) for scan in one.scans]}
        for one in series
    }
    report.publish("end_to_end", markdown, raw, write_docs=not args.no_docs)
    print(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
