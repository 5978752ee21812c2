"""Refresh, rotation, reuse detection, logout, CSRF on cookie writes, and rate limits on sign-in endpoints."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from fastapi.testclient import TestClient

from apps.core.dependencies import request_settings
from apps.core.settings import get_settings
from apps.main import create_app
from tests.auth.browser import Browser, sign_in_with
from tests.fakes.oauth_providers import FakeProvider
from tests.support.identity import SignedIn, sign_in


def _refresh(api: httpx.Client, refresh_token: str) -> httpx.Response:
    return api.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


def _me(api: httpx.Client, token: str) -> int:
    return api.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_refreshing_rotates_the_refresh_token_within_the_session(api: httpx.Client) -> None:
    first = sign_in(api)
    response = _refresh(api, first.refresh_token)
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["user_id"] == first.user_id
    assert second["refresh_token"] != first.refresh_token and second["access_token"] != first.access_token
    assert _me(api, second["access_token"]) == 200
    third = _refresh(api, second["refresh_token"])
    assert third.status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_session(api: httpx.Client) -> None:
    stolen = sign_in(api)
    other_session = sign_in(api, subject=None)
    rotated = _refresh(api, stolen.refresh_token).json()  # the real client refreshed; the thief kept the old
    reuse = _refresh(api, stolen.refresh_token)
    assert reuse.status_code == 401 and "already used" in reuse.json()["detail"]
    assert reuse.json()["code"] == "session_rejected"
    assert _refresh(api, rotated["refresh_token"]).status_code == 401  # the family is gone
    assert _me(api, rotated["access_token"]) == 401  # and its access tokens stop at once
    assert _me(api, stolen.access_token) == 401
    assert _me(api, other_session.access_token) == 200


def test_unknown_refresh_tokens_are_refused(api: httpx.Client) -> None:
    response = _refresh(api, "made-up")
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert api.post("/api/v1/auth/refresh", json={}).status_code == 401


def test_logout_ends_the_session_at_once(api: httpx.Client) -> None:
    signed_in = sign_in(api)
    same_user_elsewhere = sign_in(api, subject=None)
    assert api.post("/api/v1/auth/logout", headers=signed_in.headers).status_code == 204
    assert _me(api, signed_in.access_token) == 401
    ended = _refresh(api, signed_in.refresh_token)
    assert ended.status_code == 401 and "ended" in ended.json()["detail"]
    assert _me(api, same_user_elsewhere.access_token) == 200


def test_cookie_sessions_need_the_csrf_token_on_writes(
    api: httpx.Client, providers: dict[str, FakeProvider]
) -> None:
    browser, _ = sign_in_with(api, providers["google"])
    assert browser.get("/api/v1/users/me").status_code == 200  # reads need no CSRF token
    missing = browser.request("PATCH", "/api/v1/users/me", json={"nickname": "csrf"})
    assert missing.status_code == 403 and "X-CSRF-Token" in missing.json()["detail"]
    wrong = browser.request(
        "PATCH", "/api/v1/users/me", json={"nickname": "csrf"}, headers={"X-CSRF-Token": "x"}
    )
    assert wrong.status_code == 403

    other, _ = sign_in_with(api, providers["google"])  # a CSRF token of another session does not fit this one
    planted = dict(browser.cookies, eco2_csrf=other.cookies["eco2_csrf"])
    browser_with_planted = Browser(api)
    browser_with_planted.cookies = planted
    refused = browser_with_planted.request(
        "PATCH", "/api/v1/users/me", json={"nickname": "csrf"}, headers=browser_with_planted.csrf
    )
    assert refused.status_code == 403 and "not this session's" in refused.json()["detail"]

    ok = browser.request("PATCH", "/api/v1/users/me", json={"nickname": "csrf"}, headers=browser.csrf)
    assert ok.status_code == 200 and ok.json()["nickname"] == "csrf"


def test_a_browser_refreshes_with_its_cookie_and_the_csrf_header(
    api: httpx.Client, providers: dict[str, FakeProvider]
) -> None:
    browser, _ = sign_in_with(api, providers["kakao"])
    old_refresh, old_csrf = browser.cookies["eco2_refresh"], browser.cookies["eco2_csrf"]
    assert browser.post("/api/v1/auth/refresh", json={}).status_code == 403
    refreshed = browser.post("/api/v1/auth/refresh", json={}, headers=browser.csrf)
    assert refreshed.status_code == 200, refreshed.text
    assert "refresh_token" not in refreshed.json() and refreshed.json()["csrf_token"] != old_csrf
    assert browser.cookies["eco2_refresh"] != old_refresh
    assert browser.get("/api/v1/users/me").status_code == 200

    assert browser.post("/api/v1/auth/logout", headers=browser.csrf).status_code == 204
    assert not {"eco2_access", "eco2_refresh", "eco2_csrf"} & set(browser.cookies)


def test_sign_in_callback_and_token_endpoints_are_rate_limited_per_client() -> None:
    settings = get_settings().model_copy(update={"auth_rate_limit_per_minute": 1, "auth_rate_limit_burst": 2})
    app = create_app(["auth"])
    app.dependency_overrides[request_settings] = lambda: settings
    with TestClient(app, client=(f"rate-limit-test-{uuid.uuid4().hex}", 50000)) as client:
        requests: dict[str, Callable[[], Any]] = {
            "sign-in": lambda: client.get("/api/v1/auth/google/authorize", follow_redirects=False),
            "callback": lambda: client.get("/api/v1/auth/google/callback?code=x&state=y"),
            "token": lambda: client.post("/api/v1/auth/local/token", json={"subject": uuid.uuid4().hex}),
        }
        for group, send in requests.items():
            first, second, third = send(), send(), send()
            assert first.status_code != 429 and second.status_code != 429, group
            assert third.status_code == 429, group
            assert 1 <= int(third.headers["retry-after"]) <= 60
            assert third.json()["code"] == "rate_limited" and group in third.json()["detail"]
        assert client.post("/api/v1/auth/refresh", json={"refresh_token": "x"}).status_code == 429


def test_signed_in_helper_users_are_distinct(api: httpx.Client) -> None:
    first, second = sign_in(api), sign_in(api)
    assert isinstance(first, SignedIn) and first.user_id != second.user_id
    assert sign_in(api, subject="same-person").user_id == sign_in(api, subject="same-person").user_id
