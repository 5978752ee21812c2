"""The load generators against a real uvicorn server (the bench's hello app) on a free port."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator

import httpx
import pytest

from bench import load
from bench.hello import create_hello_app
from bench.load import CpuMeter, HttpRequest, LoadError
from tests.support.asgi_server import ThreadedServer


@pytest.fixture(scope="module")
def hello_url() -> Iterator[str]:
    with ThreadedServer(create_hello_app(), name="hello") as server:
        # first-request set-up happens outside the tests
        assert httpx.get(f"{server.url}/hello").status_code == 200
        yield server.url


def test_percentile_is_nearest_rank() -> None:
    values = [float(value) for value in range(1, 101)]
    assert load.percentile(values, 50) == 50.0
    assert load.percentile(values, 99) == 99.0
    assert load.percentile(values, 100) == 100.0
    assert load.percentile([7.0], 99) == 7.0


def test_percentile_of_nothing_is_nan() -> None:
    assert load.percentile([], 50) != load.percentile([], 50)  # NaN


def test_request_encoding_carries_token_and_json_body() -> None:
    encoded = HttpRequest("POST", "/api/v1/waste/analyses", "secret", '{"upload_id": "x"}').encode("h:1")
    head, body = encoded.split(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /api/v1/waste/analyses HTTP/1.1"
    assert "Authorization: Bearer secret" in lines
    assert "Content-Type: application/json" in lines
    assert f"Content-Length: {len(body)}" in lines
    assert body == b'{"upload_id": "x"}'


def test_open_loop_holds_the_rate(hello_url: str) -> None:
    payload = HttpRequest("GET", "/hello").encode(hello_url.removeprefix("http://"))
    result = load.run_open_loop("hello", hello_url, lambda _: payload, rate=200, duration_s=1.0, drain_s=2.0)
    assert result.errors == 0
    assert result.unanswered == 0
    assert result.ok == 200
    assert 0 < result.p50_ms <= result.p99_ms < 1000


def test_open_loop_counts_non_2xx_as_errors(hello_url: str) -> None:
    payload = HttpRequest("GET", "/missing").encode(hello_url.removeprefix("http://"))
    result = load.run_open_loop("missing", hello_url, lambda _: payload, rate=50, duration_s=1.0, drain_s=2.0)
    assert result.errors == 50
    assert result.ok == 0


def test_open_loop_fails_when_the_request_pool_runs_out(hello_url: str) -> None:
    payload = HttpRequest("GET", "/hello").encode(hello_url.removeprefix("http://"))
    with pytest.raises(LoadError, match="exhausted"):
        load.run_open_loop(
            "hello", hello_url, lambda number: payload if number < 10 else None, rate=50, duration_s=1.0
        )


def test_open_loop_refuses_a_rate_that_sends_nothing(hello_url: str) -> None:
    with pytest.raises(LoadError, match="schedules no request"):
        load.run_open_loop("hello", hello_url, lambda _: b"", rate=0.1, duration_s=1.0)


needs_wrk = pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)"
)


@needs_wrk
def test_wrk_measures_throughput_and_latency(hello_url: str) -> None:
    result = load.run_wrk("hello", hello_url, [HttpRequest("GET", "/hello")], 1, 4, 1, allow_repeats=True)
    assert result.ok > 100
    assert result.errors == 0
    assert 0 < result.p50_ms <= result.p99_ms


@needs_wrk
def test_wrk_fails_when_a_request_would_be_sent_twice(hello_url: str) -> None:
    with pytest.raises(LoadError, match="only 1 were prepared"):
        load.run_wrk("hello", hello_url, [HttpRequest("GET", "/hello")], 1, 4, 1, allow_repeats=False)


def test_cpu_meter_charges_this_process() -> None:
    meter = CpuMeter(load.stack_groups({}))
    meter.start()
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    used = meter.stop()
    assert used.seconds["bench client"] >= 0.2
    assert used.seconds[load.MACHINE] >= used.seconds["bench client"] - 0.05
