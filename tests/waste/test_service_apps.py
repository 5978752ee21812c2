"""Each domain runs as its own service; the gateway mounts them all under the ALB's paths."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session

from apps.core.db import get_engine
from apps.core.settings import get_settings
from apps.core.storage import ObjectStart, get_s3_client
from apps.core.storage import read_object_start as read_object_start_from_storage
from apps.main import DOMAIN_ROUTERS, create_app, create_gateway
from apps.waste import service
from tests.waste.conftest import REPO_ROOT, image_bytes, upload_photo


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


def test_an_exhausted_database_pool_is_a_503_to_retry() -> None:
    app = create_app(["users"])

    @app.get("/pool-exhausted")
    def pool_exhausted() -> None:
        raise PoolTimeout("QueuePool limit of size 20 overflow 20 reached")

    with TestClient(app) as client:
        response = client.get("/pool-exhausted")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "retry" in response.json()["detail"]


def test_upload_verification_holds_no_connection_during_storage_reads(
    api: httpx.Client, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    upload_id = upload_photo(api, auth, image_bytes())
    connections_during_read: list[int] = []
    real_read = read_object_start_from_storage

    def read_object_start(*args: Any) -> ObjectStart:
        connections_during_read.append(get_engine().pool.checkedout())  # type: ignore[attr-defined]
        return real_read(*args)

    monkeypatch.setattr(service, "read_object_start", read_object_start)
    user_id = uuid.UUID(api.get("/api/v1/users/me", headers=auth).json()["id"])
    service.verify_upload(get_engine(), get_s3_client(), get_settings(), user_id, uuid.UUID(upload_id))
    assert connections_during_read == [0]


def test_reading_a_job_returns_its_connection_before_the_response(
    api: httpx.Client, auth: dict[str, str]
) -> None:
    upload_id = upload_photo(api, auth, image_bytes())
    response = api.post("/api/v1/waste/analyses", json={"upload_id": upload_id}, headers=auth)
    job_id = uuid.UUID(response.json()["job_id"])
    user_id = uuid.UUID(api.get("/api/v1/users/me", headers=auth).json()["id"])
    with Session(get_engine(), expire_on_commit=False) as session:
        assert service.get_job(session, user_id, job_id).id == job_id
        assert not session.in_transaction()


def _run_fresh_interpreter(script: str) -> None:
    """Import checks need a process that has loaded nothing else."""
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr[-2000:]


def test_the_waste_models_alone_resolve_their_foreign_keys():
    """`ecoeco serve waste` imports only its own domain: its tables must still find `users` (found by
    image-test: every upload of a waste-only service failed with NoReferencedTableError)."""
    script = (
        "import apps.waste.models\n"
        "from sqlmodel import SQLModel\n"
        "for table in ('uploads', 'analysis_jobs'):\n"
        "    for key in SQLModel.metadata.tables[table].foreign_keys:\n"
        "        key.column\n"
    )
    _run_fresh_interpreter(script)


def test_a_one_domain_service_loads_no_other_domain():
    """The recycling service imports neither the waste domain nor its metrics (each Deployment runs one)."""
    script = (
        "import sys\n"
        "from apps.main import create_app\n"
        "create_app(['recycling'])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('apps.waste'))\n"
        "assert not loaded, loaded\n"
    )
    _run_fresh_interpreter(script)
