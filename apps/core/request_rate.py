"""Per-user and per-client-IP request limits for endpoints, shared by every API process through Redis.

A domain guards an endpoint with a dependency that calls `limit_request` (with the caller's user id when it
knows one); `per_ip_limit` is that dependency for anonymous endpoints. The client IP is the one uvicorn
resolved (it honours X-Forwarded-For from the proxies it trusts: FORWARDED_ALLOW_IPS).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request

from apps.core.async_clients import get_async_clients
from apps.core.dependencies import SettingsDep
from apps.core.rate_limit import Limit
from apps.core.settings import Settings


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def limit_request(
    request: Request, settings: Settings, name: str, rate_per_minute: int, user_id: str | None = None
) -> None:
    """Take one request of `name` for the client IP (and the user): RateLimited (429) when either is over.

    With a user, `rate_per_minute` is the user's and the IP gets `rate_limit_ip_factor` times as much (users
    behind one NAT); without one the IP is the only subject and gets `rate_per_minute`. Bursts: a third.
    """
    if not settings.rate_limit_enabled:
        return
    factor = settings.rate_limit_ip_factor if user_id is not None else 1
    burst = max(1, rate_per_minute // 3)
    checks = [(Limit(f"{name}:ip", rate_per_minute * factor, burst * factor), client_ip(request))]
    if user_id is not None:
        checks.append((Limit(f"{name}:user", rate_per_minute, burst), user_id))
    clients = await get_async_clients(request)
    await clients.limiter.enforce(settings.rate_limit_namespace, checks)


def per_ip_limit(
    name: str, rate_of: Callable[[Settings], int]
) -> Callable[[Request, Settings], Coroutine[Any, Any, None]]:
    """A dependency limiting an anonymous endpoint to `rate_of(settings)` requests a minute per client IP."""

    async def dependency(request: Request, settings: SettingsDep) -> None:
        await limit_request(request, settings, name, rate_of(settings))

    return dependency


# Searches are anonymous and cheap each, but unbounded in number: limited per client IP.
search_rate_limit = per_ip_limit("search", lambda settings: settings.search_rate_per_minute)
