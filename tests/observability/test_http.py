"""The API middleware: request ids, route-template labels, the /metrics endpoint and its off switch."""

from __future__ import annotations

import logging

import pytest
from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from apps.core.observability.http import install, quiet_request_log
from apps.core.settings import Settings

ITEM_ROUTE = "/api/v1/things/items/{item_id}"


def make_app(settings: Settings) -> FastAPI:
    router = APIRouter()

    @router.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        if item_id == 0:
            raise HTTPException(500, "broken")
        return {"item_id": item_id}

    @router.get("/polls/{poll_id}")
    @quiet_request_log
    def poll(poll_id: int) -> dict[str, int]:
        if poll_id == 0:
            raise HTTPException(404, "no such poll")
        return {"poll_id": poll_id}

    app = FastAPI()
    app.include_router(router, prefix="/api/v1/things")
    install(app, settings)
    return app


def count(route: str, method: str, status: str) -> float:
    labels = {"route": route, "method": method, "status": status}
    return REGISTRY.get_sample_value("eco2_http_requests_total", labels) or 0.0


def test_a_request_id_is_made_echoed_or_kept() -> None:
    client = TestClient(make_app(Settings()))
    made = client.get("/api/v1/things/items/1").headers["x-request-id"]
    assert len(made) == 32
    kept = client.get("/api/v1/things/items/1", headers={"X-Request-ID": "alb-trace-0001"})
    assert kept.headers["x-request-id"] == "alb-trace-0001"
    odd = client.get("/api/v1/things/items/1", headers={"X-Request-ID": "a b\tc; drop"})
    assert odd.headers["x-request-id"] != "a b\tc; drop", "an unsafe id is replaced, never logged"


def test_requests_are_counted_by_route_template_not_raw_path() -> None:
    client = TestClient(make_app(Settings()), raise_server_exceptions=False)
    before_ok, before_500 = count(ITEM_ROUTE, "GET", "200"), count(ITEM_ROUTE, "GET", "500")
    before_unmatched = count("<unmatched>", "GET", "404")
    for item_id in (1, 2, 3):
        assert client.get(f"/api/v1/things/items/{item_id}").status_code == 200
    assert client.get("/api/v1/things/items/0").status_code == 500
    assert client.get("/no/such/path/42").status_code == 404
    assert count(ITEM_ROUTE, "GET", "200") - before_ok == 3
    assert count(ITEM_ROUTE, "GET", "500") - before_500 == 1
    assert count("<unmatched>", "GET", "404") - before_unmatched == 1
    exposition = client.get("/metrics").text
    assert f'route="{ITEM_ROUTE}"' in exposition
    assert "/api/v1/things/items/2" not in exposition
    assert 'route="/metrics"' not in exposition, "scrapes are not counted as traffic"


def test_metrics_disabled_serves_no_endpoint_and_counts_nothing() -> None:
    client = TestClient(make_app(Settings(metrics_enabled=False)))
    before = count(ITEM_ROUTE, "GET", "200")
    response = client.get("/api/v1/things/items/7")
    assert response.status_code == 200
    assert response.headers["x-request-id"], "request ids do not depend on metrics"
    assert client.get("/metrics").status_code == 404
    assert count(ITEM_ROUTE, "GET", "200") == before


def test_a_quiet_endpoint_logs_its_successes_at_debug_and_its_errors_at_info(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = TestClient(make_app(Settings()))
    with caplog.at_level(logging.DEBUG, logger="eco2.http"):
        client.get("/api/v1/things/polls/1")
        client.get("/api/v1/things/polls/0")
        client.get("/api/v1/things/items/1")
        client.get("/metrics")
    levels = {record.getMessage(): record.levelno for record in caplog.records if record.name == "eco2.http"}
    assert levels == {
        "GET /api/v1/things/polls/{poll_id} 200": logging.DEBUG,
        "GET /api/v1/things/polls/{poll_id} 404": logging.INFO,
        "GET /api/v1/things/items/{item_id} 200": logging.INFO,
        "GET /metrics 200": logging.DEBUG,
    }
