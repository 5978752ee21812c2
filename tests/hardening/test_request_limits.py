"""Bounded work per request: body-size limit before parsing, strict JSON, bounded error bodies, headers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict

from apps.core.request_limits import JsonInt
from apps.core.settings import Settings
from apps.main import create_app, install_hardening
from tests.support.identity import fresh_signing_key_pem

LIMIT = 4096


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    count: JsonInt | None = None


def make_app(**overrides: object) -> FastAPI:
    app = FastAPI()
    received: list[int] = []

    @app.post("/echo")
    def echo(payload: Payload) -> dict[str, object]:
        received.append(1)
        return payload.model_dump()

    @app.get("/missing/{name}")
    def missing(name: str) -> None:
        raise HTTPException(404, detail=f"no such thing: {name}")

    @app.get("/public")
    def public(response: Response) -> dict[str, str]:
        response.headers["Cache-Control"] = "public, max-age=60"
        return {"ok": "yes"}

    @app.get("/varies")
    def varies(response: Response) -> dict[str, str]:
        response.headers["Vary"] = "Accept-Language"
        return {"ok": "yes"}

    settings = Settings(max_body_bytes=LIMIT, cors_origins=["https://app.example"], **overrides)  # type: ignore[arg-type]
    install_hardening(app, settings)
    app.state.received = received
    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as test_client:
        yield test_client


def post_raw(client: TestClient, body: bytes) -> tuple[int, Any]:
    response = client.post("/echo", content=body, headers={"Content-Type": "application/json"})
    return response.status_code, response.json()


def test_a_declared_oversized_body_is_refused_unread(client: TestClient) -> None:
    response = client.post("/echo", content=b"x" * (LIMIT + 1), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"detail": f"the request body exceeds {LIMIT} bytes"}
    assert client.app.state.received == []  # type: ignore[attr-defined]


def test_a_streamed_oversized_body_is_refused(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 1024

    response = client.post("/echo", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_a_body_within_the_limit_reaches_the_endpoint(client: TestClient) -> None:
    body = {"name": "캔", "count": 3}
    assert post_raw(client, json.dumps(body).encode()) == (200, body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "a", "count": NaN}',
        b'{"name": "a", "count": Infinity}',
        b'{"name": "a", "count": -Infinity}',
        b'{"name": "\\udfff"}',
        b'{"name": "\xff\xfe"}',
        b"[" * 2000 + b"]" * 2000,
    ],
    ids=["nan", "infinity", "minus-infinity", "lone-surrogate", "bad-utf8", "deep"],
)
def test_odd_json_is_a_422_not_a_500(client: TestClient, body: bytes) -> None:
    status, payload = post_raw(client, body)
    assert status == 422
    detail = payload["detail"]
    assert isinstance(detail, list) and detail[0]["type"] == "json_invalid"


@pytest.mark.parametrize("count", [b"true", b'"3"', b"3.5"], ids=["bool", "string", "fraction"])
def test_only_a_whole_json_number_is_an_int(client: TestClient, count: bytes) -> None:
    status, payload = post_raw(client, b'{"name": "a", "count": ' + count + b"}")
    assert status == 422
    assert payload["detail"][0]["loc"] == ["body", "count"]


def test_a_whole_number_written_with_a_fraction_is_that_int(client: TestClient) -> None:
    """JSON Schema's "integer" admits 3.0, so the OpenAPI promises it is accepted."""
    status, payload = post_raw(client, b'{"name": "a", "count": 3.0}')
    assert status == 200 and payload == {"name": "a", "count": 3}


def test_validation_errors_echo_no_input_and_stay_small(client: TestClient) -> None:
    huge_key = "k" * 3000
    status, payload = post_raw(client, json.dumps({"name": 5, huge_key: "v" * 500}).encode())
    assert status == 422
    text = json.dumps(payload)
    assert '"input"' not in text and "v" * 100 not in text and huge_key not in text
    assert len(text) < 1000
    for issue in payload["detail"]:
        assert set(issue) == {"loc", "msg", "type"}


def test_security_headers_and_no_store_by_default(client: TestClient) -> None:
    response = client.post("/echo", json={"name": "a"})
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Strict-Transport-Security" not in response.headers
    assert client.get("/public").headers["Cache-Control"] == "public, max-age=60"


def test_hsts_behind_tls_or_when_configured(client: TestClient) -> None:
    behind_alb = client.get("/public", headers={"X-Forwarded-Proto": "https"})
    assert behind_alb.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    with TestClient(make_app(hsts_always=True)) as always:
        assert "Strict-Transport-Security" in always.get("/public").headers


def test_rejections_carry_the_security_headers(client: TestClient) -> None:
    response = client.post("/echo", content=b"x" * (LIMIT + 1), headers={"Content-Type": "application/json"})
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_cors_preflight_for_a_configured_origin(client: TestClient) -> None:
    preflight = client.options(
        "/echo",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    simple = client.post("/echo", json={"name": "a"}, headers={"Origin": "https://app.example"})
    assert simple.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert simple.headers.get_list("Vary") == ["Origin"], "once, though two middlewares know of it"


def test_every_answer_varies_by_origin_also_without_one(client: TestClient) -> None:
    """A shared cache must not serve a non-browser answer (no CORS headers) to a browser, or the reverse."""
    assert client.post("/echo", json={"name": "a"}).headers.get_list("Vary") == ["Origin"]
    assert client.get("/varies").headers["Vary"] == "Accept-Language, Origin"


def test_cors_refuses_other_origins(client: TestClient) -> None:
    preflight = client.options(
        "/echo", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 400
    assert "Access-Control-Allow-Origin" not in preflight.headers


@pytest.mark.parametrize(
    ("environment", "docs_enabled", "served"),
    [("local", None, True), ("prod", None, False), ("dev", None, False), ("prod", True, True)],
)
def test_docs_and_openapi_only_where_enabled(
    monkeypatch: pytest.MonkeyPatch, environment: str, docs_enabled: bool | None, served: bool
) -> None:
    settings = Settings(
        _env_file=None,
        environment=environment,
        token_signing_key=fresh_signing_key_pem() if environment != "local" else None,
        docs_enabled=docs_enabled,
    )
    monkeypatch.setattr("apps.main.get_settings", lambda: settings)
    client = TestClient(create_app(["recycling"]))  # no lifespan: nothing connects
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == (200 if served else 404), path


def test_http_errors_stay_bounded(client: TestClient) -> None:
    response = client.get(f"/missing/{'x' * 5000}")
    assert response.status_code == 404
    assert len(response.json()["detail"]) <= 200
