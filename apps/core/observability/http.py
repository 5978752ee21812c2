"""The API's side: a request id on every request, HTTP metrics by route template, one log line per request,
and the ``/metrics`` endpoint.

The middleware is plain ASGI (no BaseHTTPMiddleware): it adds no task or thread per request.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import FastAPI, Response
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apps.core.observability import metrics
from apps.core.observability.celery import propagate_request_ids
from apps.core.observability.logging import bind
from apps.core.settings import Settings

logger = logging.getLogger("eco2.http")

REQUEST_ID_HEADER = "x-request-id"
# A caller's (or the load balancer's) request id is kept only if it is short and plain; otherwise we make one.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
_QUIET = "eco2_quiet_request_log"

EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])


def quiet_request_log(endpoint: EndpointT) -> EndpointT:
    """Mark an endpoint whose successful requests are frequent and uneventful (probes, scrapes, a scan's
    status polls): their request lines are debug-level; an error answer is still logged at info. The HTTP
    metrics count every request either way."""
    setattr(endpoint, _QUIET, True)
    return endpoint


def _log_level(scope: Scope, status: int) -> int:
    endpoint = getattr(scope.get("route"), "endpoint", None)
    return logging.DEBUG if status < 400 and getattr(endpoint, _QUIET, False) else logging.INFO


def request_id_from(headers: Sequence[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == REQUEST_ID_HEADER.encode():
            candidate = value.decode("latin-1")
            if _VALID_REQUEST_ID.fullmatch(candidate):
                return candidate
    return uuid.uuid4().hex


def route_of(scope: Scope) -> str:
    """The matched route's template (``/api/v1/waste/analyses/{job_id}``), never the raw path.

    FastAPI includes routers lazily: ``scope["route"]`` is the router's own route (``/analyses/{job_id}``),
    and the template with the include prefix is on the effective route context FastAPI records in the scope
    (pinned by tests/observability/test_http.py)."""
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    path = getattr(context, "path_format", None) or getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else metrics.UNMATCHED_ROUTE


class ObservabilityMiddleware:
    """Binds the request id (taken from ``X-Request-ID`` or generated, and echoed in the response) for the
    request's log lines and the tasks it publishes; records HTTP metrics unless disabled; logs the request."""

    def __init__(self, app: ASGIApp, *, record_metrics: bool = True) -> None:
        self.app = app
        self.record_metrics = record_metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope["headers"])
        method = scope["method"]
        status = 500  # if the app raises before it starts a response, the server answers 500
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((REQUEST_ID_HEADER.encode(), request_id.encode()))
            await send(message)

        in_progress = metrics.HTTP_REQUESTS_IN_PROGRESS.labels(method) if self.record_metrics else None
        if in_progress is not None:
            in_progress.inc()
        with bind(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_request_id)
            finally:
                elapsed = time.perf_counter() - started
                route = route_of(scope)
                if in_progress is not None:
                    in_progress.dec()
                    if route != metrics.METRICS_PATH:
                        metrics.HTTP_REQUESTS.labels(route, method, str(status)).inc()
                        metrics.HTTP_REQUEST_DURATION.labels(route, method).observe(elapsed)
                logger.log(
                    _log_level(scope, status),
                    "%s %s %d",
                    method,
                    route,
                    status,
                    extra={"method": method, "route": route, "status": status, "duration_ms": elapsed * 1e3},
                )


def install(app: FastAPI, settings: Settings, collectors: Callable[[], Sequence[Collector]] = tuple) -> None:
    """Add the middleware (and the request id to the tasks the app publishes), and the ``/metrics`` endpoint
    unless ``ECO2_METRICS_ENABLED`` is false. `collectors` gives scrape-time collectors (e.g. a count read
    from the database)."""
    propagate_request_ids()
    app.add_middleware(ObservabilityMiddleware, record_metrics=settings.metrics_enabled)
    if not settings.metrics_enabled:
        return

    @app.get(metrics.METRICS_PATH, include_in_schema=False)
    @quiet_request_log
    async def prometheus_metrics() -> Response:
        # Reading every process's files (and any database-backed collector) blocks: not on the event loop.
        body, content_type = await run_in_threadpool(metrics.render, collectors())
        return Response(body, media_type=content_type)
