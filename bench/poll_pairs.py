"""The poll against its anchors in alternating windows: GET analyses, its async twin and hello, one window
each per round, `--pairs` rounds. Each round gives one ratio per anchor, taken from windows seconds apart, and
the report is their median: on a shared VM whose speed moves between minutes, a median of close pairs says
more than the best window of each (what bench.scan_api keeps).

    .venv/bin/python -m bench.poll_pairs [--pairs 6] [--duration 3] [--no-docs]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench import load, report
from bench.load import HttpRequest, LoadError
from bench.scan_api import ASYNC_TWIN_ANALYSES, Bench, twin_polls
from bench.scan_api import parse_args as scan_api_args
from bench.scan_data import load_photo
from bench.scan_report import GET_VS_HELLO_GOAL, GET_VS_TWIN_GOAL
from bench.stack import Stack
from tests.support.provisioning import ProvisioningError

JOBS_TO_POLL = 400


@dataclass(frozen=True)
class Window:
    rps: float
    cpu_ms: float  # the serving process's CPU per answered request


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.poll_pairs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=6, help="rounds of (GET, twin, hello) windows")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measured window")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.pairs < 1 or args.duration <= 0:
        parser.error("--pairs must be at least 1 and --duration positive")
    return args


def measure(args: argparse.Namespace) -> dict[str, list[Window]]:
    scan_args = scan_api_args(["--duration", str(args.duration), "--warm-up", "1", "--no-docs"])
    with Stack() as stack:
        bench = Bench(scan_args, stack, load_photo(None))
        bench.warm_gateway()
        load.run_wrk("jobs to poll", bench.url(bench.gateway), bench.posts(JOBS_TO_POLL), 3, 16, 2, True)
        gets = bench.get_requests()
        # label → (the app, its CPU meter's process group, the requests)
        served = {
            "GET analyses": (bench.gateway, "API (gateway)", gets),
            "GET twin (async)": (bench.twins, "twins app", twin_polls(gets, ASYNC_TWIN_ANALYSES)),
            "hello": (bench.hello, "hello app", [HttpRequest("GET", "/hello")]),
        }
        windows: dict[str, list[Window]] = {label: [] for label in served}
        for _ in range(args.pairs):
            for label, (service, group, requests) in served.items():
                result = bench.closed(label, service, requests, requests, repeats=True)
                cores = result.cpu.cores(group) if result.cpu else 0.0
                windows[label].append(Window(result.rps, cores / result.rps * 1e3 if result.rps else 0.0))
        return windows


def render(windows: dict[str, list[Window]]) -> str:
    """Per-round figures, then each ratio's median over the rounds."""
    gets, twins, hellos = windows["GET analyses"], windows["GET twin (async)"], windows["hello"]
    lines = [
        "| round | GET analyses req/s (CPU/req) | async twin | hello | GET ÷ twin | GET ÷ hello |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for number, (get, twin, hello) in enumerate(zip(gets, twins, hellos, strict=True), start=1):
        cells = [f"{w.rps:.0f} ({w.cpu_ms:.2f} ms)" for w in (get, twin, hello)]
        ratios = f"{get.rps / twin.rps:.2f}× | {get.rps / hello.rps:.3f}×"
        lines.append(f"| {number} | {' | '.join(cells)} | {ratios} |")
    vs_twin = statistics.median(get.rps / twin.rps for get, twin in zip(gets, twins, strict=True))
    vs_hello = statistics.median(get.rps / hello.rps for get, hello in zip(gets, hellos, strict=True))
    lines += [
        "",
        "| goal | median over the rounds | verdict |",
        "|---|---|---|",
        f"| GET analyses ≥ {GET_VS_TWIN_GOAL}× its twin | {vs_twin:.2f}× "
        f"| {report.verdict(vs_twin >= GET_VS_TWIN_GOAL)} |",
        f"| GET analyses ≥ {GET_VS_HELLO_GOAL}× hello | {vs_hello:.3f}× "
        f"| {report.verdict(vs_hello >= GET_VS_HELLO_GOAL)} |",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    try:
        load.ensure_wrk()
        windows = measure(args)
    except (ProvisioningError, LoadError, OSError, ValueError) as error:
        print(f"bench.poll_pairs failed (the stack was removed): {error}", file=sys.stderr)
        return 1
    markdown = report.section("bench.poll_pairs", "The poll in alternating windows", render(windows))
    raw = {label: [vars(window) for window in series] for label, series in windows.items()}
    report.publish("poll_pairs", markdown, raw, write_docs=not args.no_docs)
    print(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
