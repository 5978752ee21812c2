"""Browser sessions: HttpOnly cookies for the tokens, a readable one for the CSRF double-submit token."""

from __future__ import annotations

from typing import Literal

from fastapi import Response

from apps.auth.tokens import IssuedTokens
from apps.core.access_tokens import ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE
from apps.core.settings import Settings

API_PATH = "/api/"
AUTH_PATH = "/api/v1/auth/"


def _set(
    response: Response,
    settings: Settings,
    name: str,
    value: str,
    max_age: int,
    path: str,
    httponly: bool = True,
    samesite: Literal["lax", "strict", "none"] | None = None,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        domain=settings.auth_cookie_domain,
        secure=settings.auth_cookie_secure,
        httponly=httponly,
        samesite=samesite or settings.auth_cookie_samesite,
    )


def set_session_cookies(response: Response, issued: IssuedTokens, settings: Settings) -> None:
    assert issued.csrf_token is not None, "browser sessions are bound to a CSRF token"
    _set(response, settings, ACCESS_COOKIE, issued.access_token, settings.access_token_ttl_seconds, API_PATH)
    # Sent only to refresh and logout, and never cross-site.
    _set(
        response,
        settings,
        REFRESH_COOKIE,
        issued.refresh_token,
        settings.refresh_token_ttl_seconds,
        AUTH_PATH,
        samesite="strict",
    )
    _set(
        response,
        settings,
        CSRF_COOKIE,
        issued.csrf_token,
        settings.refresh_token_ttl_seconds,
        "/",
        httponly=False,
    )


def clear_session_cookies(response: Response, settings: Settings) -> None:
    for name, path in ((ACCESS_COOKIE, API_PATH), (REFRESH_COOKIE, AUTH_PATH), (CSRF_COOKIE, "/")):
        response.delete_cookie(
            name,
            path=path,
            domain=settings.auth_cookie_domain,
            secure=settings.auth_cookie_secure,
            httponly=True,
        )


def set_state_cookie(
    response: Response, settings: Settings, name: str, value: str, path: str, max_age: int
) -> None:
    """SameSite=Lax: the provider's redirect back is a cross-site top-level GET, which Lax cookies survive."""
    _set(response, settings, name, value, max_age, path, samesite="lax")


def clear_state_cookie(response: Response, settings: Settings, name: str, path: str) -> None:
    response.delete_cookie(
        name, path=path, domain=settings.auth_cookie_domain, secure=settings.auth_cookie_secure
    )
