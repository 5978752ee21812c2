"""ASGI apps. Each domain can run as its own service; the gateway mounts them all, as the ALB routes them.

uvicorn --factory apps.main:create_gateway          # every domain under /api/v1 (local runs)
ECO2_SERVICE=waste uvicorn --factory apps.main:create_service   # one domain (one Deployment each)
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlmodel import Session

from apps.core.access_tokens import key_ring
from apps.core.async_clients import open_async_clients
from apps.core.db import get_engine
from apps.core.errors import document_common_errors, install_error_handlers
from apps.core.http_headers import BrowserCorsMiddleware, SecurityHeadersMiddleware
from apps.core.observability import http as observability
from apps.core.observability.http import quiet_request_log
from apps.core.observability.logging import configure_logging
from apps.core.queue import celery_app, declare_topology
from apps.core.redaction import install_log_redaction
from apps.core.request_limits import RequestLimitsMiddleware
from apps.core.settings import Settings, get_settings

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
# Domain name → module exposing `router`, imported on demand: a one-domain service loads only its own code.
# Routes are matched in this order, one by one (FastAPI has no prefix shortcut), and the prefixes are
# disjoint: the scan routes, polled several times a second per scan, come first.
DOMAIN_ROUTERS = {
    "waste": "apps.waste.router",
    "auth": "apps.auth.router",
    "users": "apps.users.router",
    "recycling": "apps.recycling.router",
    "locations": "apps.locations.router",
}


def _declare_queues() -> None:
    """Declare the topology through the publisher's own connection pool, which also warms it up."""
    try:
        with celery_app.pool.acquire(block=True) as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
            declare_topology(connection)
    except Exception as error:  # the API must start without the broker; the sweeper publishes later
        logger.warning("could not declare the queue topology at start-up: %s", error)


def _queued_jobs_collectors() -> list[Collector]:
    """The waste service's scrape-time gauges of queued jobs (imported here: other services never load it)."""
    from apps.waste.metrics import QueuedJobsCollector

    return [QueuedJobsCollector(get_engine())]


def install_hardening(app: FastAPI, settings: Settings) -> None:
    """Error handlers and the request/response middleware. Outermost first: security headers (on every
    response, preflights and rejections included), CORS, request limits (body size, strict JSON)."""
    install_log_redaction(settings)
    install_error_handlers(app)
    document_common_errors(app)
    app.add_middleware(RequestLimitsMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(
        BrowserCorsMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        expose_headers=["Location", "Retry-After", "ETag"],
        max_age=600,
    )
    app.add_middleware(
        SecurityHeadersMiddleware,
        hsts_max_age_seconds=settings.hsts_max_age_seconds,
        hsts_always=settings.hsts_always,
    )


def create_app(domains: Iterable[str]) -> FastAPI:
    selected = list(domains)
    unknown = sorted(set(selected) - set(DOMAIN_ROUTERS))
    if unknown:
        raise ValueError(f"unknown service(s) {unknown}; choose from {sorted(DOMAIN_ROUTERS)}")
    if "auth" in selected and key_ring(get_settings()).private_key is None:
        raise ValueError("the auth service signs tokens: it needs ECO2_TOKEN_SIGNING_KEY, not the public key")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if "waste" in selected:
            _declare_queues()
        async with open_async_clients(app, get_settings()):
            yield

    settings = get_settings()
    docs = settings.docs_on
    app = FastAPI(
        title="Eco² API",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    for domain in selected:
        module = importlib.import_module(DOMAIN_ROUTERS[domain])
        app.include_router(module.router, prefix=f"{API_PREFIX}/{domain}")
    # Observability: JSON logs, request ids, HTTP metrics and /metrics (docs/observability.md).
    configure_logging(settings)
    queued_jobs = _queued_jobs_collectors if "waste" in selected else tuple
    observability.install(app, settings, queued_jobs)

    @app.get("/healthz", include_in_schema=False)
    @quiet_request_log
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    @quiet_request_log
    def readyz() -> dict[str, str]:
        try:
            with Session(get_engine()) as session:
                session.execute(text("SELECT 1"))
        except Exception as error:
            raise HTTPException(503, detail=f"database unavailable: {type(error).__name__}") from error
        return {"status": "ready"}

    install_hardening(app, settings)
    return app


def create_gateway() -> FastAPI:
    return create_app(DOMAIN_ROUTERS)


def create_service() -> FastAPI:
    return create_app([os.environ.get("ECO2_SERVICE", "")])
