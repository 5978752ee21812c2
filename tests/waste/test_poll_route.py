"""The poll is served without FastAPI's dependency solving (PollRoute): same contract as any route."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from apps.waste.dependencies import PollDep, PollRoute

ANALYSES = "/api/v1/waste/analyses"


@pytest.mark.parametrize("job_id", ["not-a-uuid", "1234", "%00", "0" * 33])
def test_a_malformed_job_id_is_refused_as_fastapi_refuses_it(
    api: httpx.Client, auth: dict[str, str], job_id: str
) -> None:
    """The stream route parses the same path parameter the usual way: both answers must be the same."""
    polled = api.get(f"{ANALYSES}/{job_id}", headers=auth)
    streamed = api.get(f"{ANALYSES}/{job_id}/events", headers=auth)
    assert polled.status_code == streamed.status_code == 422
    assert polled.json() == streamed.json()
    assert polled.json()["detail"][0]["loc"] == ["path", "job_id"]


def test_any_spelling_of_a_uuid_reaches_the_job(api: httpx.Client, auth: dict[str, str]) -> None:
    """Unknown ids are a 404 (not a 422) however a UUID is written, as for a `uuid.UUID` path parameter."""
    job_id = uuid.uuid4()
    for spelling in (str(job_id), job_id.hex, str(job_id).upper()):
        assert api.get(f"{ANALYSES}/{spelling}", headers=auth).status_code == 404, spelling


def test_an_unauthenticated_poll_is_refused_before_the_id_matters(api: httpx.Client) -> None:
    assert api.get(f"{ANALYSES}/{uuid.uuid4()}").status_code == 401


def test_the_poll_is_documented_with_its_path_parameter_and_bearer_security() -> None:
    from apps.main import create_app

    operation = create_app(["waste"]).openapi()["paths"][f"{ANALYSES}/{{job_id}}"]["get"]
    assert [(p["name"], p["in"], p["schema"]["format"]) for p in operation["parameters"]] == [
        ("job_id", "path", "uuid")
    ]
    assert operation["security"] == [{"HTTPBearer": []}]
    assert {"200", "401", "404", "422"} <= set(operation["responses"])


def test_a_poll_route_refuses_an_endpoint_it_would_serve_wrongly() -> None:
    """Its handler passes the poll only: another parameter would silently be missing."""
    router = APIRouter()

    async def with_a_query(poll: PollDep, verbose: bool = False) -> None: ...

    with pytest.raises(TypeError, match="one PollDep only"):
        router.add_api_route("/x/{job_id}", with_a_query, route_class_override=PollRoute)
    FastAPI().include_router(router)
