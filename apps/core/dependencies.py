"""Shared request dependencies, among them the one place that decides who the caller is (`CurrentUser`)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence
from typing import Annotated, Any, cast

import redis
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from apps.core.access_tokens import (
    ACCESS_COOKIE,
    CSRF_COOKIE,
    CSRF_HEADER,
    InvalidToken,
    Principal,
    csrf_hash,
    key_ring,
    revocation_keys,
    revoked_by,
    verify_access_token,
)
from apps.core.async_clients import AsyncRedisDep
from apps.core.cache import GuardedAsyncRedis, get_redis
from apps.core.settings import Settings, get_settings

logger = logging.getLogger(__name__)


async def request_settings() -> Settings:
    """The process's settings as an `async` dependency: FastAPI runs a sync one (even a cached getter) in a
    worker thread, a hop on every request that needs them."""
    return get_settings()


SettingsDep = Annotated[Settings, Depends(request_settings)]
RedisDep = Annotated[redis.Redis, Depends(get_redis)]

bearer_scheme = HTTPBearer(auto_error=False)
# The OpenAPI security of a route that calls `bearer_scheme` itself instead of depending on it.
BEARER_SECURITY: dict[str, Any] = {"security": [{bearer_scheme.scheme_name: []}]}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=reason, headers={"WWW-Authenticate": "Bearer"})


def check_csrf(request: Request, expected_hash: str | None) -> None:
    """Double-submit: a cookie-authenticated write must echo the CSRF cookie in a header, and when the session
    is bound to a CSRF token (`expected_hash`, from the access token) it must be that token."""
    header = request.headers.get(CSRF_HEADER, "")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not header or not hmac.compare_digest(header, cookie):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"missing or wrong {CSRF_HEADER} header")
    if expected_hash is not None and not hmac.compare_digest(csrf_hash(header), expected_hash):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"the {CSRF_HEADER} is not this session's")


def _verified(
    request: Request, settings: Settings, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """The token's principal (signature, claims, and CSRF on a cookie-authenticated write): no I/O."""
    token = credentials.credentials if credentials is not None else request.cookies.get(ACCESS_COOKIE)
    if not token:
        raise _unauthorized("missing bearer token or session cookie")
    try:
        principal = verify_access_token(token, key_ring(settings), settings.token_issuer)
    except InvalidToken as error:
        raise _unauthorized(str(error)) from error
    if credentials is None and request.method not in SAFE_METHODS:
        check_csrf(request, principal.csrf_hash)
    return principal


def _revocation_unknown(error: redis.RedisError) -> HTTPException:
    logger.error("cannot check token revocation, refusing the request: %s", error)
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        detail="cannot verify the session right now; retry shortly",
        headers={"Retry-After": "1"},
    )


def _unless_revoked(revocation: Sequence[str], values: list[Any]) -> list[Any]:
    """The values read beside the revocation keys, once those say the token still stands."""
    if revoked_by(values[: len(revocation)]):
        raise _unauthorized("token revoked")
    return values[len(revocation) :]


async def authenticate_async(
    request: Request,
    settings: Settings,
    redis_client: GuardedAsyncRedis,
    credentials: HTTPAuthorizationCredentials | None,
    also_read: Sequence[str] = (),
) -> tuple[Principal, list[Any]]:
    """The caller, and the values of the Redis keys `also_read`, fetched in the revocation check's round trip
    (an endpoint that needs Redis anyway pays no second round trip). On the event loop: no thread hop."""
    principal = _verified(request, settings, credentials)
    revocation = revocation_keys(principal)
    try:
        values = cast(list[Any], await redis_client.mget([*revocation, *also_read]))
    except redis.RedisError as error:
        raise _revocation_unknown(error) from error
    return principal, _unless_revoked(revocation, values)


BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


async def get_current_user(
    request: Request, settings: SettingsDep, redis_client: AsyncRedisDep, credentials: BearerCredentials
) -> Principal:
    """A bearer token (API clients) or the session cookie (browsers, with CSRF checks on writes)."""
    return (await authenticate_async(request, settings, redis_client, credentials))[0]


CurrentUser = Annotated[Principal, Depends(get_current_user)]
