from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from apps.auth.exceptions import RateLimited
from apps.core.access_tokens import ACCESS_COOKIE, KeyRing, Principal, key_ring
from apps.core.async_clients import AsyncRedisDep, get_async_clients
from apps.core.dependencies import SettingsDep, bearer_scheme, get_current_user
from apps.core.rate_limit import Limit
from apps.core.request_rate import client_ip


async def get_key_ring(settings: SettingsDep) -> KeyRing:
    return key_ring(settings)


KeyRingDep = Annotated[KeyRing, Depends(get_key_ring)]


class AuthRateLimit:
    """Per client IP and endpoint group, shared by every API process (the request limits' GCRA in Redis, on
    the event loop). If Redis cannot answer, the request goes through: refusing every sign-in during a Redis
    outage would be worse."""

    def __init__(self, group: str) -> None:
        self.group = group

    async def __call__(self, request: Request, settings: SettingsDep) -> None:
        limit = Limit(
            f"auth:{self.group}", settings.auth_rate_limit_per_minute, settings.auth_rate_limit_burst
        )
        clients = await get_async_clients(request)
        wait = await clients.limiter.try_acquire(settings.rate_limit_namespace, [(limit, client_ip(request))])
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise RateLimited(f"too many {self.group} requests; retry in {retry_after} s", retry_after)


SignInRateLimit = Depends(AuthRateLimit("sign-in"))
CallbackRateLimit = Depends(AuthRateLimit("callback"))
TokenRateLimit = Depends(AuthRateLimit("token"))


async def optional_user(
    request: Request,
    settings: SettingsDep,
    redis_client: AsyncRedisDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal | None:
    """The signed-in caller if the request carries a token (checked as for CurrentUser); else None."""
    if credentials is None and ACCESS_COOKIE not in request.cookies:
        return None
    return await get_current_user(request, settings, redis_client, credentials)


OptionalUser = Annotated[Principal | None, Depends(optional_user)]
