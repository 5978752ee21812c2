"""bench.instrumentation: each variant's throughput as a ratio to the uninstrumented gateway, per round."""

from __future__ import annotations

from bench.instrumentation import middleware_cost, parse_args, render
from bench.load import LoadResult


def result(rps: float) -> LoadResult:
    return LoadResult(label="x", mode="closed", duration_s=1.0, ok=int(rps), errors=0, p50_ms=1.0, p99_ms=2.0)


def test_the_ratio_is_taken_within_each_round_and_its_median_reported() -> None:
    measured = {
        "names": ["none", "metrics"],
        "results": {
            # The machine slowed down in round 2: both variants lost half; the ratio did not change.
            "GET /healthz": {"none": [result(1000), result(500)], "metrics": [result(900), result(450)]},
        },
    }
    table = render(parse_args(["--rounds", "2"]), measured)
    assert "| GET /healthz | metrics | 900 / 450 | 0.90 |" in table
    assert "| GET /healthz | none | 1000 / 500 | 1.00 |" in table
    assert "shared" in table


def test_the_in_process_cost_is_measured_for_each_variant() -> None:
    cost = middleware_cost(rounds=1, requests=50)
    assert set(cost) == {"bare app", "middleware, metrics off", "middleware, metrics on"}
    assert all(value > 0 for value in cost.values())
