"""The Markdown of a `bench.scan_api` run: its tables (closed and open loop, goals, CPU per process group,
profiles) and the raw JSON beside them. Pure functions of the run's results."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from bench import profiling, report
from bench.load import LoadResult
from bench.scan_data import Photo

GET_VS_TWIN_GOAL = 0.8
GET_VS_HELLO_GOAL = 0.2
POST_VS_TWIN_GOAL = 0.5
CPU_PER_SCAN_GOAL_MS = 20.0
P99_GOAL_MS = 50.0
# A client polls about every second while the worker analyses (~1–3 s) and once more for the result.
POLLS_PER_SCAN = 3
# How long the open-loop client waits for answers after a window (the bench's; said in the report).
OPEN_LOOP_DRAIN_S = 5.0


def _window_name(result: LoadResult) -> str:
    return (
        f"{result.label} (wrk)" if result.mode == "closed" else f"{result.label} @ {result.target_rps:.0f}/s"
    )


def _cpu_table(results: Sequence[LoadResult]) -> str:
    """Cores busy per process group; for the stack's servers also the CPU time per answered request."""
    first = results[0].cpu
    assert first is not None
    per_request = {"API (gateway)", "twins app", "embedded S3 (moto)", "PostgreSQL", "RabbitMQ"}
    rows = []
    for group in first.seconds:
        cells = [group]
        for result in results:
            assert result.cpu is not None
            cell = f"{result.cpu.cores(group):.2f}"
            if result.ok and group in per_request and result.label != "hello":
                cell += f" ({result.cpu.seconds.get(group, 0.0) / result.ok * 1000:.1f} ms/req)"
            cells.append(cell)
        rows.append(cells)
    return report.table(["process group", *(_window_name(result) for result in results)], rows)


def _others(results: Sequence[LoadResult]) -> str:
    seen = []
    for result in results:
        assert result.cpu is not None
        if result.cpu.top_other:
            busiest = ", ".join(
                f"{command} {seconds / result.cpu.wall_s:.2f}" for command, seconds in result.cpu.top_other
            )
            seen.append(f"{_window_name(result)}: {busiest}")
    return "; ".join(seen) if seen else "none above 0.05 cores"


def _api_cpu_ms(result: LoadResult, group: str = "API (gateway)") -> float:
    """The app's CPU per answered request in the window."""
    assert result.cpu is not None
    return result.cpu.seconds.get(group, 0.0) / max(result.ok, 1) * 1000


def _profile_table(profiles: Sequence[profiling.Profile]) -> str:
    header = [
        f"{'request threads, wall clock' if profile.wall_clock else 'GIL holder (Python CPU)'} "
        f"({profile.samples} samples)"
        for profile in profiles
    ]
    rows = [
        [label, *(f"{profile.shares[label]:.0%}" for profile in profiles)] for label in profiles[0].shares
    ]
    return report.table(["part", *header], rows)


def render(args: argparse.Namespace, photo: Photo, results: dict[str, Any]) -> str:
    hello: LoadResult = results["hello"]
    post: LoadResult = results["post"]
    get: LoadResult = results["get"]
    twin_get: LoadResult = results["twin_get"]
    twin_get_sync: LoadResult = results["twin_get_sync"]
    twin_post: LoadResult = results["twin_post"]
    reserve: LoadResult = results["reserve"]

    closed_rows = [
        [
            r.label,
            f"{r.rps:.0f}",
            report.ms(r.p50_ms),
            report.ms(r.p99_ms),
            f"{r.rps / hello.rps:.3f}×",
            str(r.errors),
        ]
        for r in (hello, twin_get, twin_get_sync, get, twin_post, post, reserve)
    ]
    open_keys = ("hello_half", "post_half_own", "get_half_own", "post_half_hello", "get_half_hello")
    open_results: list[LoadResult] = [results[key] for key in open_keys if results[key] is not None]
    open_rows = []
    for key in open_keys:
        r = results[key]
        if r is None:
            open_rows.append([key, "skipped (see notes)", "", "", "", "", ""])
            continue
        assert r.target_rps is not None
        basis = "half hello" if key.endswith("hello") or key == "hello_half" else "half its own"
        open_rows.append(
            [
                r.label,
                f"{r.target_rps:.0f} ({basis})",
                f"{r.rps:.0f}",
                report.ms(r.p50_ms, r.p50_is_lower_bound),
                report.ms(r.p99_ms, r.p99_is_lower_bound),
                str(r.unanswered),
                str(r.errors),
            ]
        )
    cpu_ms = {r.label: _api_cpu_ms(r) for r in (post, get, reserve)}
    per_scan = cpu_ms["POST uploads"] + cpu_ms["POST analyses"] + POLLS_PER_SCAN * cpu_ms["GET analyses"]
    goals = [
        [
            f"GET analyses ≥ {GET_VS_TWIN_GOAL}× its twin (the async one)",
            f"{get.rps / twin_get.rps:.2f}× (vs the sync twin {get.rps / twin_get_sync.rps:.2f}×)",
            report.verdict(get.rps >= GET_VS_TWIN_GOAL * twin_get.rps),
        ],
        [
            f"GET analyses ≥ {GET_VS_HELLO_GOAL}× hello",
            f"{get.rps / hello.rps:.3f}×",
            report.verdict(get.rps >= GET_VS_HELLO_GOAL * hello.rps),
        ],
        [
            f"POST analyses ≥ {POST_VS_TWIN_GOAL}× its twin",
            f"{post.rps / twin_post.rps:.2f}×",
            report.verdict(post.rps >= POST_VS_TWIN_GOAL * twin_post.rps),
        ],
        *(
            [
                f"(CPU view, not a goal) {r.label}: its twin's CPU per request ÷ its own",
                f"{_api_cpu_ms(twin, 'twins app'):.1f} ÷ {_api_cpu_ms(r):.1f} ms = "
                f"{_api_cpu_ms(twin, 'twins app') / max(_api_cpu_ms(r), 1e-9):.2f}×",
                "",
            ]
            for r, twin in ((get, twin_get), (post, twin_post))
        ),
        [
            f"API CPU per scan (reserve + submit + {POLLS_PER_SCAN} polls) ≤ {CPU_PER_SCAN_GOAL_MS:.0f} ms",
            f"{per_scan:.1f} ms ({cpu_ms['POST uploads']:.1f} + {cpu_ms['POST analyses']:.1f} + "
            f"{POLLS_PER_SCAN} × {cpu_ms['GET analyses']:.1f})",
            report.verdict(per_scan <= CPU_PER_SCAN_GOAL_MS),
        ],
    ]
    for key in ("post_half_hello", "get_half_hello", "post_half_own", "get_half_own"):
        r = results[key]
        if r is None:
            goals.append([key, "not measured", report.verdict(False)])
            continue
        basis = "half the hello load" if key.endswith("hello") else "half its own throughput (not the goal)"
        goals.append(
            [
                f"{r.label} p99 < {P99_GOAL_MS:.0f} ms at {basis}, {r.target_rps:.0f}/s",
                f"{report.ms(r.p99_ms, r.p99_is_lower_bound)} ms",
                report.verdict(r.p99_ms < P99_GOAL_MS and not r.p99_is_lower_bound and r.errors == 0),
            ]
        )
    parts = [
        f"Setup: one uvicorn process per app (`--workers {args.api_processes}`, uvloop + httptools, "
        f"no access log), wrk `-t{args.threads} -c{args.connections}`, {args.duration:.0f} s windows after a "
        f"{args.warm_up:.0f} s warm-up; open loop with up to {args.open_connections} connections; "
        f"{args.users} users; photo {photo.describe()}. No Celery worker runs.",
        "#### Closed loop (wrk, maximum throughput)",
        report.table(["endpoint", "req/s", "p50 ms", "p99 ms", "vs hello", "errors"], closed_rows),
        "#### Open loop (constant arrival rate; latency from each request's scheduled time)",
        report.table(
            ["endpoint", "offered req/s", "answered req/s", "p50 ms", "p99 ms", "unanswered", "errors"],
            open_rows,
        ),
        f"Unanswered: no answer within {OPEN_LOOP_DRAIN_S:.0f} s after the window; such requests count with "
        "the time they had waited, so a `>` figure is a lower bound. "
        + " ".join(f"Note: {note}." for note in results["notes"]),
        "#### Goals",
        report.table(["goal", "measured", "verdict"], goals),
        "#### CPU (cores busy during the window; CPU per answered request)",
        _cpu_table(
            [
                hello,
                twin_get,
                twin_get_sync,
                get,
                twin_post,
                post,
                reserve,
                *(r for r in open_results if r.label != "hello"),
            ]
        ),
        "Other processes: outside this bench (the machine is shared); busiest: "
        + _others([hello, twin_get, twin_get_sync, get, twin_post, post, reserve, *open_results])
        + ".",
    ]
    for endpoint, key in (("POST analyses", "profiles"), ("GET analyses", "get_profiles")):
        profiles: list[profiling.Profile] = results.get(key, [])
        if profiles:
            parts += [
                f"#### Where {endpoint} spends its time in the gateway (py-spy under wrk load)",
                _profile_table(profiles),
            ]
    return "\n\n".join(parts)


def raw(results: dict[str, Any]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, LoadResult):
            return {**vars(value), "cpu": vars(value.cpu) if value.cpu else None, "rps": value.rps}
        if isinstance(value, list):
            return [vars(item) if isinstance(item, profiling.Profile) else item for item in value]
        return value

    return {key: plain(value) for key, value in results.items()}
