"""The cost of instrumentation: gateway requests/s with and without metrics and request log lines, in one run.

    .venv/bin/python -m bench.instrumentation [--duration 5] [--rounds 2] [--connections 16] [--no-docs]

Four gateways on one isolated stack, served with the same uvicorn options (one process each):
  none       ECO2_METRICS_ENABLED=false, ECO2_LOG_LEVEL=WARNING: no metrics, no request log lines
  logs       metrics off; one JSON request line per request (the default log level)
  metrics    the default: HTTP metrics middleware, domain counters, request lines (one process registry)
  multiproc  the default with PROMETHEUS_MULTIPROC_DIR set (what a multi-process pod runs: mmap'd files)
Closed-loop wrk windows on GET /healthz (framework and middleware only: the largest relative cost) and
GET /api/v1/waste/analyses/{id} (the poll: authentication, a Redis cache look-up, a database read). Each round
runs every variant once per endpoint, in rotated order, so the drift of a shared machine spreads over all
variants; the cost is the ratio to `none` within each round, and its median over the rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import httpx

from bench import load, report
from bench.load import HttpRequest, LoadError, LoadResult
from bench.scan_data import load_photo, prepare_uploads
from bench.stack import Service, Stack, issue_tokens
from tests.support.provisioning import ProvisioningError

FACTORY = "apps.main:create_gateway"
ANALYSES = "/api/v1/waste/analyses"
JOBS = 32


def variants(stack: Stack) -> dict[str, dict[str, str]]:
    quiet = {"ECO2_LOG_LEVEL": "WARNING"}
    return {
        "none": {"ECO2_METRICS_ENABLED": "false", **quiet},
        "logs": {"ECO2_METRICS_ENABLED": "false"},
        "metrics": {},
        "multiproc": {"PROMETHEUS_MULTIPROC_DIR": str(stack.log_dir / "metrics-multiproc")},
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.instrumentation", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measured window")
    parser.add_argument("--warm-up", type=float, default=1.0, help="seconds of unmeasured load before each")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of every variant on every endpoint")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    return parser.parse_args(argv)


def create_jobs(url: str, tokens: list[str]) -> list[HttpRequest]:
    """Queued jobs to poll (no worker runs: a poll reads a queued job, as most polls do)."""
    uploads = prepare_uploads(tokens, load_photo(None), JOBS)
    polls = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for upload in uploads:
            response = client.post(
                ANALYSES,
                json={"upload_id": str(upload.upload_id)},
                headers={"Authorization": f"Bearer {upload.token}"},
            )
            if response.status_code != 202:
                raise LoadError(f"POST analyses answered {response.status_code}: {response.text[:200]}")
            polls.append(HttpRequest("GET", f"{ANALYSES}/{response.json()['job_id']}", upload.token))
    return polls


def run(args: argparse.Namespace, stack: Stack) -> dict[str, Any]:
    gateways: dict[str, Service] = {
        name: stack.start_api(f"gateway-{name}", FACTORY, 1, "/readyz", env=env)
        for name, env in variants(stack).items()
    }
    first = next(iter(gateways.values()))
    assert first.url is not None
    polls = create_jobs(first.url, issue_tokens(first.url, 8))
    endpoints = {"GET /healthz": [HttpRequest("GET", "/healthz")], "GET analyses/{id}": polls}
    names = list(gateways)
    results: dict[str, dict[str, list[LoadResult]]] = {e: {n: [] for n in names} for e in endpoints}
    for round_number in range(args.rounds):
        order = names[round_number % len(names) :] + names[: round_number % len(names)]
        for endpoint, requests in endpoints.items():
            for name in order:
                url = gateways[name].url
                assert url is not None
                load.run_wrk("warm-up", url, requests, args.warm_up, args.connections, args.threads, True)
                result = load.run_wrk(
                    f"{endpoint} {name}", url, requests, args.duration, args.connections, args.threads, True
                )
                if result.errors:
                    raise LoadError(f"{endpoint} on {name}: {result.errors} errors")
                print(f"  round {round_number + 1} {endpoint} {name}: {result.rps:.0f} req/s")
                results[endpoint][name].append(result)
    return {"results": results, "names": names}


class _Route:
    path = "/bench/{id}"


async def _trivial_app(scope: Any, receive: Any, send: Any) -> None:
    scope["route"] = _Route()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def middleware_cost(rounds: int = 5, requests: int = 5000) -> dict[str, float]:
    """Microseconds per request in this process, around a trivial ASGI app: bare, with the middleware without
    metrics (request id; request line below the log level), and with metrics. Median of interleaved rounds."""
    import asyncio

    from apps.core.observability.http import ObservabilityMiddleware

    async def ignore(_: Any) -> None:
        return None

    apps_under_test = {
        "bare app": _trivial_app,
        "middleware, metrics off": ObservabilityMiddleware(_trivial_app, record_metrics=False),
        "middleware, metrics on": ObservabilityMiddleware(_trivial_app, record_metrics=True),
    }

    async def per_request(app: Any) -> float:
        started = time.perf_counter()
        for _ in range(requests):
            await app({"type": "http", "method": "GET", "headers": []}, ignore, ignore)
        return (time.perf_counter() - started) / requests * 1e6

    samples: dict[str, list[float]] = {name: [] for name in apps_under_test}
    for _ in range(rounds):
        for name, app in apps_under_test.items():
            samples[name].append(asyncio.run(per_request(app)))
    return {name: statistics.median(values) for name, values in samples.items()}


def render(args: argparse.Namespace, measured: dict[str, Any]) -> str:
    names: list[str] = measured["names"]
    rows = []
    for endpoint, by_name in measured["results"].items():
        baseline = [result.rps for result in by_name["none"]]
        for name in names:
            rps = [result.rps for result in by_name[name]]
            ratios = [value / base for value, base in zip(rps, baseline, strict=True)]
            p99 = statistics.median(result.p99_ms for result in by_name[name])
            rows.append(
                [
                    endpoint,
                    name,
                    " / ".join(f"{value:.0f}" for value in rps),
                    f"{statistics.median(ratios):.2f}",
                    report.ms(p99),
                ]
            )
    header = ["endpoint", "variant", "req/s per round", "median ratio to none", "p99 ms (median)"]
    cost = measured.get("in_process", {})
    in_process = report.table(
        ["in one process, around a trivial ASGI app", "µs per request (median of 5 × 5000)"],
        [[name, f"{value:.1f}"] for name, value in cost.items()],
    )
    return (
        f"Setup: four gateways (one uvicorn process each) on one isolated stack; wrk `-t{args.threads} "
        f"-c{args.connections}`, {args.duration:.0f} s windows after {args.warm_up:.0f} s warm-ups, "
        f"{args.rounds} rounds in rotated order; {JOBS} queued jobs polled. The machine was shared with "
        "other work while this ran: read the ratios within a round, not the absolute rates.\n\n"
        + report.table(header, rows)
        + "\n\n"
        + in_process
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    try:
        load.ensure_wrk()
        with Stack() as stack:
            print(
                f"stack {stack.run_id}: database {stack.database}, vhost {stack.vhost}, logs {stack.log_dir}"
            )
            measured = run(args, stack)
        measured["in_process"] = middleware_cost()
    except (ProvisioningError, LoadError, OSError, ValueError) as error:
        print(f"bench.instrumentation failed (the stack was removed): {error}", file=sys.stderr)
        return 1
    markdown = report.section("bench.instrumentation", "Cost of instrumentation", render(args, measured))
    raw = {
        e: {n: [vars(r) | {"cpu": None} for r in rs] for n, rs in by.items()}
        for e, by in measured["results"].items()
    }
    report.publish(
        "instrumentation", markdown, json.loads(json.dumps(raw, default=str)), write_docs=not args.no_docs
    )
    print(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
