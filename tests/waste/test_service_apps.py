"""Each domain runs as its own service; the gateway mounts them all under the ALB's paths."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from apps.main import DOMAIN_ROUTERS, create_app, create_gateway


def test_a_single_domain_service_serves_only_its_own_paths() -> None:
    with TestClient(create_app(["recycling"])) as client:
        assert client.get("/api/v1/recycling/categories").status_code == 200
        assert client.get("/api/v1/locations/points/keco-1").status_code == 404
        assert client.get("/healthz").json() == {"status": "ok"}
        paths = client.get("/openapi.json").json()["paths"]
        assert paths
        assert all(path.startswith("/api/v1/recycling/") for path in paths)


def test_the_gateway_mounts_every_domain_under_api_v1() -> None:
    paths = create_gateway().openapi()["paths"]
    for domain in DOMAIN_ROUTERS:
        assert any(path.startswith(f"/api/v1/{domain}/") for path in paths), domain


def test_an_unknown_service_name_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown service\(s\) \['billing'\]"):
        create_app(["billing"])


def test_readiness_follows_the_database(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(create_app(["users"])) as client:
        assert client.get("/readyz").status_code == 200
        unreachable = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none", pool_pre_ping=False)
        monkeypatch.setattr("apps.main.get_engine", lambda: unreachable)
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "database unavailable" in response.json()["detail"]
