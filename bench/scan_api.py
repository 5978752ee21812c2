"""Throughput and latency of `POST /api/v1/waste/analyses` and `GET /api/v1/waste/analyses/{id}` beside their
bare twins (bench/twins.py: only the unavoidable I/O) and a FastAPI "hello" endpoint, all served the same way,
on an isolated stack that this run starts and removes.

    .venv/bin/python -m bench.scan_api [--duration 8] [--connections 64] [--api-processes 1] [--no-docs]

1. Closed loop (wrk, as fast as it goes): hello, the twins (GET: the async anchor and the sync one), POST
   uploads (reservations), POST analyses (one prepared upload per request), GET analyses. API CPU per
   complete scan = reserve + submit + POLLS_PER_SCAN polls.
2. Open loop (constant arrival rate): at half of each endpoint's own throughput, then at half the hello
   throughput (the goal read literally); p50/p99 from each request's scheduled time.
3. py-spy profiles of the gateway under POST load (the shares of request time, waits included, and of CPU
   spent on S3, the header check, the broker, the database) and of its CPU under GET load.

No Celery worker runs: a POST's work ends when RabbitMQ confirms the message (publisher confirms); the jobs
stay queued, so GET reads a queued job, as most polls do.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from bench import load, profiling, report
from bench.load import CpuMeter, HttpRequest, LoadError, LoadResult, ProcessGroups
from bench.scan_data import Photo, PreparedUpload, load_photo, prepare_uploads
from bench.scan_report import OPEN_LOOP_DRAIN_S, raw, render
from bench.stack import REPO_ROOT, Service, Stack, issue_tokens, user_id_of
from tests.support.provisioning import ProvisioningError

ANALYSES = "/api/v1/waste/analyses"
UPLOADS = "/api/v1/waste/uploads"
TWIN_ANALYSES = "/twin/analyses"
ASYNC_TWIN_ANALYSES = "/twin/async/analyses"
RECOVERY_TIMEOUT_S = 30.0


def twin_polls(gets: Sequence[HttpRequest], prefix: str) -> list[HttpRequest]:
    """The same polls (job, token) sent to a twin's route under `prefix`."""
    return [HttpRequest("GET", f"{prefix}/{r.path.rsplit('/', 1)[1]}", r.token) for r in gets]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scan_api", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measured window")
    parser.add_argument("--warm-up", type=float, default=2.0, help="seconds of unmeasured load first")
    parser.add_argument(
        "--connections",
        type=int,
        default=16,
        help="wrk connections (16 saturate one API process; more only add queueing: see docs/benchmarks.md)",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--open-connections", type=int, default=64, help="connection limit of the open-loop client"
    )
    parser.add_argument("--api-processes", type=int, default=1, help="uvicorn worker processes per app")
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternating endpoint/twin windows; each keeps its best"
    )
    parser.add_argument("--users", type=int, default=16, help="distinct users the requests rotate over")
    parser.add_argument(
        "--api-factory", default="apps.main:create_gateway", help="ASGI app factory of the API under test"
    )
    parser.add_argument("--photo", type=Path, help="JPEG to upload (default: apps/samples/, else generated)")
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profiles of POST and GET")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    return parser.parse_args(argv)


class Bench:
    def __init__(self, args: argparse.Namespace, stack: Stack, photo: Photo) -> None:
        self.args = args
        self.stack = stack
        self.photo = photo
        self.hello = stack.start_api("hello", "bench.hello:create_hello_app", args.api_processes, "/hello")
        self.gateway = self.start_gateway()  # first: it declares the queues the POST twin publishes to
        self.twins = stack.start_api("twins", "bench.twins:create_twin_app", args.api_processes, "/docs")
        self.tokens = issue_tokens(self.url(self.gateway), args.users)
        self.meter = CpuMeter(self._process_groups())
        self.notes: list[str] = []

    def start_gateway(self) -> Service:
        return self.stack.start_api("gateway", self.args.api_factory, self.args.api_processes, "/readyz")

    @staticmethod
    def url(service: Service) -> str:
        assert service.url is not None
        return service.url

    def _process_groups(self) -> ProcessGroups:
        s3 = self.stack.service("s3")
        return load.stack_groups(
            {
                "API (gateway)": lambda: self.gateway.session_id,  # `recover` may restart the gateway
                "hello app": lambda: self.hello.session_id,
                "twins app": lambda: self.twins.session_id,
                "embedded S3 (moto)": lambda: s3.session_id,
            }
        )

    def settle(self, max_wait_s: float = 20.0, busy_cores: float = 0.1) -> None:
        """Wait until the stack's servers are nearly idle (done with what a window left in flight). Only our
        processes count: the machine may be shared."""
        servers = ("API (gateway)", "hello app", "twins app", "embedded S3 (moto)")
        deadline = time.monotonic() + max_wait_s
        while time.monotonic() < deadline:
            self.meter.start()
            time.sleep(0.5)
            used = self.meter.stop()
            if sum(used.cores(name) for name in servers) < busy_cores:
                return

    # -- windows ---------------------------------------------------------------------------------------------

    def closed(
        self,
        label: str,
        service: Service,
        warm: Sequence[HttpRequest],
        measured: Sequence[HttpRequest],
        repeats: bool,
    ) -> LoadResult:
        """A warm-up, then the measured wrk window. Without `repeats`, warm-up and window get disjoint
        requests and the window must not exhaust its own."""
        args = self.args
        url = self.url(service)
        load.run_wrk("warm-up", url, warm, args.warm_up, args.connections, args.threads, allow_repeats=True)
        self.settle()
        self.meter.start()
        result = load.run_wrk(label, url, measured, args.duration, args.connections, args.threads, repeats)
        result.cpu = self.meter.stop()
        print(f"  {label}: {result.rps:.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms")
        self.settle()
        return result

    def open(
        self, label: str, service: Service, payload_for: Callable[[int], bytes | None], rate: float
    ) -> LoadResult | None:
        if rate * self.args.duration < 1:
            self.notes.append(f"the {label} window at {rate:.2f}/s was skipped: it would send nothing")
            return None
        self.meter.start()
        result = load.run_open_loop(
            label,
            self.url(service),
            payload_for,
            rate,
            self.args.duration,
            max_connections=self.args.open_connections,
            drain_s=OPEN_LOOP_DRAIN_S,
        )
        result.cpu = self.meter.stop()
        print(
            f"  {label} @ {rate:.0f}/s: {result.rps:.0f} req/s answered, p50 {result.p50_ms:.1f} ms, "
            f"p99 {result.p99_ms:.1f} ms, {result.unanswered} unanswered, {result.errors} errors"
        )
        return result

    def recover(self, after: str) -> None:
        """After an overloaded window, wait until the gateway answers a GET within 0.5 s three times running
        (it works through what the cancelled requests left queued); restart it if that takes too long."""
        started = time.monotonic()
        probe = self.get_requests()[0]
        headers = {"Authorization": f"Bearer {probe.token}"}
        quick = 0
        with httpx.Client(base_url=self.url(self.gateway), timeout=5) as client:
            while quick < 3 and time.monotonic() - started < RECOVERY_TIMEOUT_S:
                sent = time.monotonic()
                try:
                    answered = client.get(probe.path, headers=headers).status_code == 200
                except httpx.HTTPError:
                    answered = False
                quick = quick + 1 if answered and time.monotonic() - sent < 0.5 else 0
                time.sleep(0.2)
        waited = time.monotonic() - started
        if quick < 3:
            note = (
                f"after {after} the gateway was still not answering promptly {waited:.0f} s later; restarted"
            )
            self.stack.stop(self.gateway)
            self.gateway = self.start_gateway()
            self.warm_gateway()
        else:
            note = f"after {after} the gateway needed {waited:.0f} s to answer promptly again"
        self.notes.append(note)
        print(f"  {note}")
        self.settle()

    def note_server_errors(self) -> None:
        """What the gateway logged as failed requests (500s), e.g. database pool timeouts under overload."""
        log = self.gateway.log_path.read_text(errors="replace")
        failures = log.count("Exception in ASGI application")
        if failures:
            pool_timeouts = log.count("sqlalchemy.exc.TimeoutError: QueuePool limit")
            self.notes.append(
                f"the gateway logged {failures} failed requests (500), {pool_timeouts} of them database pool "
                f"timeouts (see {self.gateway.log_path.relative_to(REPO_ROOT)})"
            )

    def warm_gateway(self) -> None:
        """A fresh gateway stalls on a first burst of concurrent POSTs (broker connections and kombu's lazy
        imports are set up on first use): start it gently, as a process in service would have been."""
        load.run_wrk("gentle warm-up", self.url(self.gateway), self.posts(200), 2, 2, 1, allow_repeats=True)

    # -- requests --------------------------------------------------------------------------------------------

    def uploads(self, count: int) -> list[PreparedUpload]:
        started = time.monotonic()
        prepared = prepare_uploads(self.tokens, self.photo, count)
        print(f"  prepared {count} uploads in {time.monotonic() - started:.1f} s")
        return prepared

    def posts(self, count: int, path: str = ANALYSES) -> list[HttpRequest]:
        return [
            HttpRequest("POST", path, upload.token, json.dumps({"upload_id": str(upload.upload_id)}))
            for upload in self.uploads(count)
        ]

    def reservations(self) -> list[HttpRequest]:
        body = json.dumps({"content_type": "image/jpeg"})
        return [HttpRequest("POST", UPLOADS, token, body) for token in self.tokens]

    def get_requests(self) -> list[HttpRequest]:
        """One GET per job the POST windows created, each with its owner's token."""
        from sqlmodel import Session, col, select

        from apps.core.db import get_engine
        from apps.waste.models import AnalysisJob

        token_of = {user_id_of(token): token for token in self.tokens}
        with Session(get_engine()) as session:
            jobs = session.exec(select(col(AnalysisJob.id), col(AnalysisJob.user_id))).all()
        return [HttpRequest("GET", f"{ANALYSES}/{job_id}", token_of[user_id]) for job_id, user_id in jobs]

    def payloads(
        self, service: Service, requests: Sequence[HttpRequest], cycle: bool
    ) -> Callable[[int], bytes | None]:
        host = self.url(service).removeprefix("http://")
        encoded = [request.encode(host) for request in requests]

        def payload_for(number: int) -> bytes | None:
            if cycle:
                return encoded[number % len(encoded)]
            return encoded[number] if number < len(encoded) else None

        return payload_for

    def open_post_pool(self, rate: float, capacity: float) -> int:
        """Uploads an open-loop POST window can consume: what it schedules, or at most what the server can
        answer in the window and the drain after it plus what the client may have in flight."""
        duration: float = self.args.duration
        in_flight: int = self.args.open_connections
        answerable = capacity * (duration + OPEN_LOOP_DRAIN_S) * 3 + in_flight
        return math.ceil(min(rate * duration, answerable)) + 16

    # -- the run ---------------------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        args = self.args
        results: dict[str, Any] = {}
        print("closed loop (wrk):")
        hello = [HttpRequest("GET", "/hello")]
        results["hello"] = self.closed("hello", self.hello, hello, hello, repeats=True)

        self.warm_gateway()
        # A short probe sizes the POST pools, so that wrk never sends an upload twice.
        probe = load.run_wrk(
            "probe", self.url(self.gateway), self.posts(300), 2, args.connections, args.threads, True
        )
        capacity = max(probe.ok / probe.duration_s, 1.0)
        self.settle()
        # Each endpoint and its twin in alternating windows, `rounds` times; each keeps its best window (the
        # least disturbed by whatever else runs on a shared machine).
        twin_rate = capacity * 4  # enough that wrk never runs out of uploads
        for _ in range(args.rounds):
            twin_warm = self.posts(math.ceil(twin_rate * args.warm_up) + args.connections, TWIN_ANALYSES)
            twin_posts = self.posts(math.ceil(twin_rate * args.duration) + args.connections, TWIN_ANALYSES)
            self.keep_best(
                results, "twin_post", self.closed("POST twin", self.twins, twin_warm, twin_posts, False)
            )
            warm = self.posts(math.ceil(capacity * 1.6 * args.warm_up) + args.connections)
            measured = self.posts(math.ceil(capacity * 1.6 * args.duration) + args.connections)
            self.keep_best(results, "post", self.closed("POST analyses", self.gateway, warm, measured, False))
            gets = self.get_requests()
            for key, label, prefix in (
                ("twin_get", "GET twin (async)", ASYNC_TWIN_ANALYSES),
                ("twin_get_sync", "GET twin (sync)", TWIN_ANALYSES),
            ):
                twin_gets = twin_polls(gets, prefix)
                self.keep_best(results, key, self.closed(label, self.twins, twin_gets, twin_gets, True))
            self.keep_best(results, "get", self.closed("GET analyses", self.gateway, gets, gets, True))
        reserve = self.reservations()
        results["reserve"] = self.closed("POST uploads", self.gateway, reserve, reserve, repeats=True)

        post_rate, get_rate = results["post"].rps / 2, results["get"].rps / 2
        half_hello = results["hello"].rps / 2
        print("open loop at half each endpoint's own throughput:")
        hello_payloads = self.payloads(self.hello, hello, cycle=True)
        results["hello_half"] = self.open("hello", self.hello, hello_payloads, half_hello)
        self.settle()
        pool = self.posts(self.open_post_pool(post_rate, results["post"].rps))
        post_payloads = self.payloads(self.gateway, pool, cycle=False)
        results["post_half_own"] = self.open("POST analyses", self.gateway, post_payloads, post_rate)
        self.settle()
        get_payloads = self.payloads(self.gateway, gets, cycle=True)
        results["get_half_own"] = self.open("GET analyses", self.gateway, get_payloads, get_rate)
        self.settle()

        print(f"open loop at half the hello throughput ({half_hello:.0f}/s):")
        pool = self.posts(self.open_post_pool(half_hello, results["post"].rps))
        post_payloads = self.payloads(self.gateway, pool, cycle=False)
        results["post_half_hello"] = self.open("POST analyses", self.gateway, post_payloads, half_hello)
        self.recover("the POST window at half the hello load")
        results["get_half_hello"] = self.open("GET analyses", self.gateway, get_payloads, half_hello)
        self.recover("the GET window at half the hello load")

        profiled_posts = math.ceil(capacity * 1.6 * min(args.duration, 6.0)) + args.connections
        results["profiles"] = (
            []
            if args.no_profile
            else self.profile(
                "POST analyses", lambda: self.posts(profiled_posts), profiling.POST_ANALYSES_PARTS, True
            )
        )
        # The poll runs on the event loop: no request threads to sample, so its CPU profile only.
        results["get_profiles"] = (
            []
            if args.no_profile
            else self.profile("GET analyses", lambda: gets, profiling.GET_ANALYSES_PARTS, False)
        )
        self.note_server_errors()
        results["notes"] = self.notes
        return results

    @staticmethod
    def keep_best(results: dict[str, Any], key: str, result: LoadResult) -> None:
        if key not in results or result.rps > results[key].rps:
            results[key] = result

    def profile(
        self,
        label: str,
        requests: Callable[[], list[HttpRequest]],
        parts: profiling.Parts,
        wall_clock_too: bool,
    ) -> list[profiling.Profile]:
        """py-spy windows of the gateway under `label` load: where the CPU goes (the GIL holder), and first,
        when `wall_clock_too`, where a request's wall time goes (request threads, waits included)."""
        if profiling.py_spy() is None:
            print(f"py-spy is not installed; skipping the {label} profile (.venv/bin/pip install py-spy)")
            return []
        seconds = min(self.args.duration, 6.0)
        profiles = []
        for wall_clock in (True, False) if wall_clock_too else (False,):
            print(f"py-spy ({'wall clock' if wall_clock else 'CPU'}) of the gateway under {label} load")
            sampler = profiling.Sampler(
                self.gateway.process.pid, seconds, self.args.api_processes > 1, wall_clock
            )
            batch = requests()
            try:
                with sampler:
                    load.run_wrk(
                        f"{label} (profiled)",
                        self.url(self.gateway),
                        batch,
                        seconds,
                        self.args.connections,
                        self.args.threads,
                        allow_repeats=True,
                    )
            except profiling.ProfileFailed as error:
                self.notes.append(f"the {label} profile failed: {error}")
                print(f"  {error}")
                return []
            profiles.append(sampler.profile(parts))
            self.settle()
        return profiles


# -- report --------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    try:
        load.ensure_wrk()
        photo = load_photo(args.photo)
        with Stack() as stack:
            print(
                f"stack {stack.run_id}: database {stack.database}, vhost {stack.vhost}, logs {stack.log_dir}"
            )
            results = Bench(args, stack, photo).run()
    except (ProvisioningError, LoadError, OSError, ValueError) as error:
        print(f"bench.scan_api failed (the stack was removed): {error}", file=sys.stderr)
        return 1
    markdown = report.section("bench.scan_api", "Scan API under load", render(args, photo, results))
    report.publish("scan_api", markdown, raw(results), write_docs=not args.no_docs)
    print(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
