"""The hot endpoints resolve every dependency on the event loop: FastAPI runs a sync dependency (even a cached
getter such as the settings) in a worker thread, a hop that costs CPU and latency on each request."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute

from apps.core.settings import get_settings
from apps.main import create_gateway
from tests.support.routes import api_routes, sync_dependencies

# (method, path) of the endpoints a scan and a search hit on every request.
HOT_ROUTES = (
    ("POST", "/api/v1/waste/uploads"),
    ("POST", "/api/v1/waste/analyses"),
    ("GET", "/api/v1/waste/analyses/{job_id}/events"),
    ("GET", "/api/v1/recycling/items/search"),
    ("GET", "/api/v1/locations/nearby"),
)


def _route(method: str, path: str) -> APIRoute:
    for full_path, route in api_routes(create_gateway()):
        if full_path == path and method in (route.methods or ()):
            return route
    raise AssertionError(f"no route {method} {path}")


@pytest.mark.parametrize(("method", "path"), HOT_ROUTES)
def test_hot_endpoints_have_no_dependency_in_a_worker_thread(method: str, path: str) -> None:
    assert sync_dependencies(_route(method, path).dependant) == []


def test_the_check_sees_a_sync_dependency() -> None:
    app = FastAPI()

    @app.get("/probe")
    async def probe(settings: Annotated[Any, Depends(get_settings)]) -> None: ...

    route = next(r for r in app.routes if isinstance(r, APIRoute))
    assert sync_dependencies(route.dependant) == ["get_settings"]
