"""Every route of an app, flattened (FastAPI mounts included routers lazily), and which ones need a user."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute


def api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) for every APIRoute, under the prefixes of the routers that include it."""

    def walk(routes: list[Any], prefix: str) -> Iterator[tuple[str, APIRoute]]:
        for route in routes:
            if isinstance(route, APIRoute):
                yield prefix + route.path, route
            elif hasattr(route, "original_router"):
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)

    yield from walk(app.router.routes, "")


def depends_on(dependant: Dependant, call: Any) -> bool:
    return any(sub.call is call or depends_on(sub, call) for sub in dependant.dependencies)


def _runs_on_the_loop(call: Any) -> bool:
    # A function, or an instance whose class has an `async __call__` (a security scheme such as HTTPBearer).
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(type(call).__call__)


def sync_dependencies(dependant: Dependant) -> list[str]:
    """The dependencies under `dependant` that FastAPI runs in a worker thread (any that is not `async`)."""
    found = []
    for sub in dependant.dependencies:
        if sub.call is not None and not _runs_on_the_loop(sub.call):
            found.append(getattr(sub.call, "__qualname__", repr(sub.call)))
        found += sync_dependencies(sub)
    return found


def user_scoped_routes(app: FastAPI, current_user: Any) -> set[tuple[str, str]]:
    """(method, path) of every route that authenticates the caller with `current_user`."""
    return {
        (method, path)
        for path, route in api_routes(app)
        if depends_on(route.dependant, current_user)
        for method in route.methods or ()
    }
