"""The one error base of the API and its handlers: every error body is ``{"detail": ...}``, bounded in size,
and never echoes the request or names an internal object.

Domains subclass `Eco2Error` (status, message, optional headers); one handler renders them all. Validation
errors keep FastAPI's shape (`loc`, `msg`, `type`) without the offending input; infrastructure failures
(database unreachable or not answering, pool exhausted; blocking engine or async pool) become 503 with
Retry-After.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from apps.core.async_db import PoolExhausted, QueryTimeout

logger = logging.getLogger(__name__)

MAX_VALIDATION_ERRORS = 10
MAX_MESSAGE_CHARS = 200
MAX_LOCATION_PART_CHARS = 64
DATABASE_RETRY_AFTER_SECONDS = 5
POOL_RETRY_AFTER_SECONDS = 1


class Eco2Error(Exception):
    """An error the client can act on: rendered as `status_code` with ``{"detail": detail}`` (and
    ``"code"``, a stable machine-readable name, when the class sets one)."""

    status_code = 400
    code: str | None = None

    def __init__(self, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})


class ErrorBody(BaseModel):
    """The body of every error response except validation errors."""

    detail: str
    code: str | None = None


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class UnprocessableBody(BaseModel):
    """A 422: a validation error says what is wrong and where (never the rejected value); a domain rule
    that refuses the request (an undecodable photo) says why in one message."""

    detail: list[ValidationIssue] | str


def bounded(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _location_part(part: Any) -> str | int:
    return (
        part
        if isinstance(part, int) and not isinstance(part, bool)
        else bounded(str(part), MAX_LOCATION_PART_CHARS)
    )


def validation_issues(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """At most MAX_VALIDATION_ERRORS issues; locations and messages truncated; inputs and contexts dropped."""
    return [
        {
            "loc": [_location_part(part) for part in error.get("loc", ())],
            "msg": bounded(str(error.get("msg", "invalid value"))),
            "type": bounded(str(error.get("type", "value_error")), MAX_LOCATION_PART_CHARS),
        }
        for error in list(errors)[:MAX_VALIDATION_ERRORS]
    ]


def error_response(
    status_code: int, detail: str, headers: Mapping[str, str] | None = None, code: str | None = None
) -> JSONResponse:
    content = {"detail": bounded(detail)} if code is None else {"detail": bounded(detail), "code": code}
    return JSONResponse(status_code=status_code, content=content, headers=dict(headers or {}))


async def eco2_error_handler(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Eco2Error)
    return error_response(error.status_code, error.detail, error.headers, error.code)


async def http_error_handler(request: Request, error: Exception) -> Response:
    """FastAPI's own rendering of HTTPException, with a text detail bounded like every other error."""
    assert isinstance(error, StarletteHTTPException)
    if isinstance(error.detail, str) and len(error.detail) > MAX_MESSAGE_CHARS:
        error = StarletteHTTPException(error.status_code, bounded(error.detail), error.headers)
    return await http_exception_handler(request, error)


async def validation_error_handler(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": validation_issues(error.errors())})


async def database_busy_handler(_: Request, error: Exception) -> JSONResponse:
    logger.warning("database pool exhausted: %s", type(error).__name__)
    return error_response(
        503, "the service is busy; retry shortly", {"Retry-After": str(POOL_RETRY_AFTER_SECONDS)}
    )


async def database_unavailable_handler(_: Request, error: Exception) -> JSONResponse:
    # The driver's message can name hosts and users: log the class only, tell the client nothing internal.
    logger.error("database unavailable: %s", type(error).__name__)
    return error_response(
        503, "the database is unavailable; retry later", {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    )


_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, invalid or expired bearer token",
    404: "Not found",
    409: "Conflict with the resource's state",
    410: "Gone (expired)",
    413: "Request body or declared size over the limit",
    422: "Validation error",
    429: "Too many requests (see Retry-After)",
    503: "A dependency is unavailable or busy (see Retry-After)",
}


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given error statuses, all with the ErrorBody schema."""
    return {
        code: {"model": ErrorBody, "description": _DESCRIPTIONS.get(code, "Error")} for code in status_codes
    }


def _schema_ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _response(description: str, ref: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def document_common_errors(app: FastAPI) -> None:
    """Declare in the OpenAPI the errors any operation can meet: 400 and 413 (request limits), 401 when it
    needs a token, 422 in the bounded shape of the handlers here, 503 (database unavailable)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        error = _schema_ref(ErrorBody, components)
        unprocessable = _response(_DESCRIPTIONS[422], _schema_ref(UnprocessableBody, components))
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                codes = [400, 413, 503, *([401] if operation.get("security") else [])]
                for code in codes:
                    responses.setdefault(str(code), _response(_DESCRIPTIONS[code], error))
                responses["422"] = unprocessable
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Eco2Error, eco2_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    for busy in (PoolTimeout, PoolExhausted):
        app.add_exception_handler(busy, database_busy_handler)
    # SQLAlchemy wraps the driver's errors on the blocking engine; the async pool raises psycopg's own.
    for unavailable in (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError):
        app.add_exception_handler(unavailable, database_unavailable_handler)
    app.add_exception_handler(QueryTimeout, database_unavailable_handler)
