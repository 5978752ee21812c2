"""Sign-in (browser redirect flow and native-app token exchange), sessions, and the public keys (JWKS)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from apps.auth import service, state, tokens
from apps.auth.cookies import clear_session_cookies, clear_state_cookie, set_session_cookies, set_state_cookie
from apps.auth.dependencies import (
    CallbackRateLimit,
    KeyRingDep,
    OptionalUser,
    SignInRateLimit,
    TokenRateLimit,
)
from apps.auth.exceptions import SessionRejected, SignInRejected
from apps.auth.providers import ProviderName, available_providers, get_provider
from apps.auth.providers.base import Authorization, NativeCredentials
from apps.auth.schemas import (
    LinkResponse,
    NativeSignIn,
    ProvidersResponse,
    RefreshRequest,
    SessionResponse,
    TokenResponse,
)
from apps.core.access_tokens import REFRESH_COOKIE
from apps.core.db import SessionDep
from apps.core.dependencies import CurrentUser, RedisDep, SettingsDep, check_csrf
from apps.core.errors import error_responses
from apps.core.settings import Settings

router = APIRouter(tags=["auth"])


def _callback_path(provider: ProviderName) -> str:
    return f"/api/v1/auth/{provider.value}/callback"


def _token_response(issued: tokens.IssuedTokens, settings: Settings) -> TokenResponse:
    return TokenResponse(
        user_id=issued.user_id,
        access_token=issued.access_token,
        expires_in=settings.access_token_ttl_seconds,
        refresh_token=issued.refresh_token,
        refresh_expires_in=settings.refresh_token_ttl_seconds,
    )


def _browser_session(issued: tokens.IssuedTokens, settings: Settings, response: Response) -> Response:
    set_session_cookies(response, issued, settings)
    return response


def _session_body(issued: tokens.IssuedTokens, settings: Settings) -> JSONResponse:
    assert issued.csrf_token is not None
    body = SessionResponse(
        user_id=issued.user_id, expires_in=settings.access_token_ttl_seconds, csrf_token=issued.csrf_token
    )
    return JSONResponse(body.model_dump(mode="json"))


def _safe_return_to(return_to: str | None) -> str | None:
    """Only a path on this site: an open redirect would hand the session cookie's page to anyone."""
    if return_to is None:
        return None
    if not return_to.startswith("/") or return_to.startswith("//") or "\\" in return_to:
        raise SignInRejected("return_to must be a path on this site, e.g. /scans")
    return return_to


@router.get("/.well-known/jwks.json", summary="Public keys of our access tokens (current and previous)")
def jwks(ring: KeyRingDep, response: Response) -> dict[str, list[dict[str, object]]]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return ring.jwks()


@router.get("/providers", response_model=ProvidersResponse)
def providers(settings: SettingsDep) -> ProvidersResponse:
    return ProvidersResponse(providers=[name.value for name in available_providers(settings)])


@router.get(
    "/{provider}/authorize",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    dependencies=[SignInRateLimit],
    summary="Start signing in (or, with link=true and a session, linking) with a provider",
    # The bearer token is optional here (it only matters for linking): `{}` is OpenAPI's "or no security".
    openapi_extra={"security": [{}]},
)
async def authorize(
    provider: ProviderName,
    settings: SettingsDep,
    ring: KeyRingDep,
    user: OptionalUser,
    link: bool = False,
    return_to: Annotated[str | None, Query(max_length=500)] = None,
) -> RedirectResponse:
    chosen = get_provider(provider, settings)
    if link and user is None:
        raise SessionRejected("linking a provider needs a signed-in user")
    attempt = Authorization(
        state=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64),
        nonce=secrets.token_urlsafe(24),
        redirect_uri=f"{settings.auth_public_base_url.rstrip('/')}{_callback_path(provider)}",
    )
    pending = state.PendingSignIn(
        provider.value, attempt, user.id if link and user else None, _safe_return_to(return_to)
    )
    url = await run_in_threadpool(chosen.authorization_url, attempt)
    redirect = RedirectResponse(url, status_code=status.HTTP_302_FOUND)
    set_state_cookie(
        redirect,
        settings,
        state.cookie_name(provider.value),
        state.seal(pending, ring, settings.token_issuer),
        _callback_path(provider),
        state.STATE_TTL_SECONDS,
    )
    return redirect


@router.get("/{provider}/callback", dependencies=[CallbackRateLimit], response_model=SessionResponse)
def callback(
    provider: ProviderName,
    request: Request,
    session: SessionDep,
    redis_client: RedisDep,
    settings: SettingsDep,
    ring: KeyRingDep,
    code: str | None = None,
    state_param: Annotated[str | None, Query(alias="state")] = None,
    error: str | None = None,
    error_description: str | None = None,
) -> Response:
    """Where the provider sends the browser back. Every refusal is a 400 with the reason and no session."""
    chosen = get_provider(provider, settings)
    cookie = state.cookie_name(provider.value)
    pending = state.unseal(
        request.cookies.get(cookie), state_param, provider.value, ring, settings.token_issuer
    )
    state.use_once(redis_client, pending.attempt.state)
    if error:
        raise SignInRejected(f"{provider.value} sign-in failed: {error_description or error}")
    if not code:
        raise SignInRejected(f"{provider.value} sent no authorization code")
    identity = chosen.finish(code, pending.attempt)
    redirect = (
        RedirectResponse(pending.return_to, status_code=status.HTTP_303_SEE_OTHER)
        if pending.return_to
        else None
    )
    response: Response
    if pending.link_user_id is not None:
        service.link(session, pending.link_user_id, identity)
        response = redirect or JSONResponse(LinkResponse(provider=provider.value).model_dump())
    else:
        user_id = service.sign_in(session, identity)
        issued = tokens.start_session(session, ring, settings, user_id, browser=True)
        response = _browser_session(issued, settings, redirect or _session_body(issued, settings))
    clear_state_cookie(response, settings, cookie, _callback_path(provider))
    return response


@router.post(
    "/{provider}/token",
    response_model=TokenResponse,
    dependencies=[TokenRateLimit],
    summary="Native apps: exchange the provider SDK's id_token / access token for our tokens",
)
def native_sign_in(
    provider: ProviderName, body: NativeSignIn, session: SessionDep, settings: SettingsDep, ring: KeyRingDep
) -> TokenResponse:
    credentials = NativeCredentials(**body.model_dump())
    identity = get_provider(provider, settings).identify(credentials)
    user_id = service.sign_in(session, identity)
    return _token_response(tokens.start_session(session, ring, settings, user_id, browser=False), settings)


@router.post(
    "/refresh",
    response_model=TokenResponse | SessionResponse,
    dependencies=[TokenRateLimit],
    responses=error_responses(401),
)
def refresh(
    body: RefreshRequest,
    request: Request,
    session: SessionDep,
    redis_client: RedisDep,
    settings: SettingsDep,
    ring: KeyRingDep,
) -> Response | TokenResponse:
    """Rotate the refresh token: the one presented is spent; presenting it again revokes the session."""
    if body.refresh_token:
        issued = tokens.rotate(session, redis_client, ring, settings, body.refresh_token, browser=False)
        return _token_response(issued, settings)
    cookie = request.cookies.get(REFRESH_COOKIE)
    if not cookie:
        raise SessionRejected("send the refresh_token, or the refresh cookie of a browser session")
    check_csrf(request, None)
    issued = tokens.rotate(session, redis_client, ring, settings, cookie, browser=True)
    return _browser_session(issued, settings, _session_body(issued, settings))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(user: CurrentUser, session: SessionDep, redis_client: RedisDep, settings: SettingsDep) -> Response:
    """End the caller's session: its refresh tokens are revoked and its access tokens stop working at once."""
    tokens.end_session(session, redis_client, settings, user.session_id)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookies(response, settings)
    return response
