from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError

from apps.core.access_tokens import Principal
from apps.core.async_clients import get_async_clients
from apps.core.async_db import AsyncConnectionPool
from apps.core.dependencies import SettingsDep, authenticate_async, bearer_scheme
from apps.core.request_rate import limit_request
from apps.core.settings import get_settings
from apps.users.dependencies import CurrentUser
from apps.waste.cache import FinishedJobCache, cached_body, finished_job_key

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, description="repeat-safe submission key"),
]


@dataclass(frozen=True)
class Poll:
    """A poll's caller and what the poll needs next, resolved in one dependency (one Redis round trip)."""

    job_id: uuid.UUID
    user: Principal
    cached_body: bytes | None  # the finished job's response, when Redis holds it for this user
    pool: AsyncConnectionPool
    cache: FinishedJobCache


async def read_poll(job_id: uuid.UUID, request: Request) -> Poll:
    """The caller of a poll, and the job's cached answer read in the revocation check's round trip.

    Polls are the most frequent request, and each sub-dependency costs FastAPI a solve (about a tenth of a
    poll's CPU in all), so this one calls the bearer scheme and the clients' getter itself; the route
    declares the bearer security in its OpenAPI (`BEARER_SECURITY`) and takes the job id from here (a path
    parameter is parsed once per dependant that declares it)."""
    clients = await get_async_clients(request)
    credentials = await bearer_scheme(request)
    user, (entry,) = await authenticate_async(
        request, get_settings(), clients.redis, credentials, [finished_job_key(job_id)]
    )
    return Poll(
        job_id=job_id,
        user=user,
        cached_body=cached_body(entry, user.id),
        pool=clients.pool,
        cache=FinishedJobCache(clients.redis),
    )


PollDep = Annotated[Poll, Depends(read_poll)]
_JOB_ID = TypeAdapter(uuid.UUID)


def _path_job_id(request: Request) -> uuid.UUID:
    """The `{job_id}` path parameter, parsed as FastAPI parses a `uuid.UUID` one (same 422 on bad input)."""
    try:
        return _JOB_ID.validate_python(request.path_params["job_id"])
    except ValidationError as error:
        issues = error.errors(include_url=False)
        raise RequestValidationError([{**issue, "loc": ("path", "job_id")} for issue in issues]) from None


class PollRoute(APIRoute):
    """The poll's route: documented from the endpoint's signature like any other, but served without
    FastAPI's dependency solving (about a fifth of a poll's CPU): the handler parses the job id and calls
    `read_poll` itself. For an endpoint whose only parameter is a `PollDep`, on a router without
    dependencies of its own; anything else is refused when the route is built."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        dependant = self.dependant
        calls = [dependency.call for dependency in dependant.dependencies]
        own = [*dependant.path_params, *dependant.query_params, *dependant.header_params]
        own += [*dependant.cookie_params, *dependant.body_params]
        if calls != [read_poll] or own or self.dependencies:
            raise TypeError(f"PollRoute serves endpoints taking one PollDep only, not {self.endpoint!r}")
        endpoint = self.endpoint

        async def serve_poll(request: Request) -> Response:
            response: Response = await endpoint(await read_poll(_path_job_id(request), request))
            return response

        return serve_poll


async def limit_uploads(request: Request, user: CurrentUser, settings: SettingsDep) -> None:
    await limit_request(request, settings, "uploads", settings.upload_rate_per_minute, str(user.id))


async def limit_analyses(request: Request, user: CurrentUser, settings: SettingsDep) -> None:
    await limit_request(request, settings, "analyses", settings.analysis_rate_per_minute, str(user.id))
