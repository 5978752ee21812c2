"""When a provider or Redis fails: a clear error, no session, and nothing half-done."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from apps.auth import state, tokens
from apps.core.cache import get_redis, make_redis
from apps.core.dependencies import request_settings
from apps.core.settings import Settings, get_settings
from apps.main import create_app
from tests.auth.browser import Browser, sign_in_with
from tests.fakes.oauth_providers import FakeProvider, FakeUser
from tests.support.identity import sign_in

UNREACHABLE = "http://127.0.0.1:1"


@contextmanager
def _auth_app(settings: Settings | None = None, redis_url: str | None = None) -> Iterator[TestClient]:
    app = create_app(["auth", "users"])
    if settings is not None:
        app.dependency_overrides[request_settings] = lambda: settings
    if redis_url is not None:
        app.dependency_overrides[get_redis] = lambda: make_redis(redis_url)
    with TestClient(app) as client:
        yield client


def test_an_unreachable_provider_is_a_502_not_a_sign_in(api: httpx.Client) -> None:
    settings = get_settings().model_copy(
        update={"google_discovery_url": f"{UNREACHABLE}/.well-known/openid-configuration"}
    )
    with _auth_app(settings) as client:
        authorize = client.get("/api/v1/auth/google/authorize", follow_redirects=False)
        assert authorize.status_code == 502 and authorize.json()["code"] == "provider_unavailable"
        native = client.post("/api/v1/auth/google/token", json={"id_token": "x.y.z"})
        assert native.status_code == 502 and "could not be reached" in native.json()["detail"]


def test_a_callback_that_cannot_record_its_state_is_refused(
    api: httpx.Client, providers: dict[str, FakeProvider]
) -> None:
    browser = Browser(api)
    callback = browser.consent(browser.start("google"))
    tokens_before = providers["google"].token_requests
    with _auth_app(redis_url="redis://127.0.0.1:1/0") as client:
        cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
        response = client.get(callback, headers={"Cookie": cookie})
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert "set-cookie" not in response.headers
    assert providers["google"].token_requests == tokens_before
    assert browser.get(callback).status_code == 200  # the attempt was not spent: it can still finish


def test_the_sign_in_rate_limit_lets_requests_through_when_redis_is_down(api: httpx.Client) -> None:
    with _auth_app(redis_url="redis://127.0.0.1:1/0") as client:
        response = client.post("/api/v1/auth/local/token", json={"subject": "redis-down"})
    assert response.status_code == 200  # sign-in itself needs only PostgreSQL


def test_reuse_detection_without_redis_changes_nothing_until_it_can_revoke(
    api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    stolen = sign_in(api)
    rotated = api.post("/api/v1/auth/refresh", json={"refresh_token": stolen.refresh_token}).json()

    def redis_down(*_: Any) -> None:
        raise redis.ConnectionError("redis unreachable")

    monkeypatch.setattr(tokens, "revoke_session", redis_down)
    response = api.post("/api/v1/auth/refresh", json={"refresh_token": stolen.refresh_token})
    assert response.status_code == 503
    monkeypatch.undo()
    assert api.post("/api/v1/auth/refresh", json={"refresh_token": stolen.refresh_token}).status_code == 401
    refused = api.get("/api/v1/users/me", headers={"Authorization": f"Bearer {rotated['access_token']}"})
    assert refused.status_code == 401


def test_a_second_account_of_the_same_provider_cannot_be_linked(
    api: httpx.Client, providers: dict[str, FakeProvider]
) -> None:
    browser, _ = sign_in_with(api, providers["kakao"])
    providers["kakao"].signed_in_as = FakeUser("987654321", "second kakao")
    response = browser.sign_in("kakao", link="true")
    assert response.status_code == 409 and "already linked to this user" in response.json()["detail"]
    again = browser.sign_in("naver", link="true", return_to="/settings/accounts")
    assert again.status_code == 303 and again.headers["location"] == "/settings/accounts"
    assert browser.get("/api/v1/users/me").json()["providers"] == ["kakao", "naver"]


def test_a_state_cookie_is_bound_to_its_provider(
    api: httpx.Client, providers: dict[str, FakeProvider]
) -> None:
    browser = Browser(api)
    callback = browser.consent(browser.start("google"))
    browser.cookies["eco2_oauth_kakao"] = browser.cookies.pop("eco2_oauth_google")
    response = browser.get(callback.replace("/google/", "/kakao/"))
    assert response.status_code == 400 and "another provider" in response.json()["detail"]
    assert state.cookie_name("kakao") == "eco2_oauth_kakao"
