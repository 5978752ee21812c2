"""The browser sign-in flow against fake providers that enforce PKCE, and every way it must fail."""

from __future__ import annotations

import httpx
import pytest

from tests.auth.browser import Browser, query_of, sign_in_with
from tests.fakes.oauth_providers import FakeProvider
from tests.support.tls_loads import count_ca_loads

SESSION_COOKIES = {"eco2_access", "eco2_refresh", "eco2_csrf"}


@pytest.mark.parametrize("kind", ["google", "kakao", "naver"])
def test_sign_in_creates_a_user_once_and_opens_a_cookie_session(
    api: httpx.Client, providers: dict[str, FakeProvider], kind: str
) -> None:
    fake = providers[kind]
    browser = Browser(api)
    authorization_url = browser.start(kind)
    sent = query_of(authorization_url)
    assert authorization_url.startswith(fake.url)
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43
    assert sent["client_id"] == fake.client_id and sent["response_type"] == "code"
    assert len(sent["state"]) >= 32
    assert ("nonce" in sent) == (kind != "naver")
    state_cookie = browser.attributes[f"eco2_oauth_{kind}"]
    assert state_cookie == {
        "httponly": True,
        "secure": True,
        "samesite": "lax",
        "path": f"/api/v1/auth/{kind}/callback",
    }

    response = browser.get(browser.consent(authorization_url))
    assert response.status_code == 200, response.text
    assert set(browser.cookies) >= SESSION_COOKIES
    assert f"eco2_oauth_{kind}" not in browser.cookies  # the attempt is spent
    assert browser.attributes["eco2_access"]["httponly"] and browser.attributes["eco2_access"]["secure"]
    assert browser.attributes["eco2_refresh"]["samesite"] == "strict"
    assert browser.attributes["eco2_refresh"]["path"] == "/api/v1/auth/"
    assert not browser.attributes["eco2_csrf"]["httponly"]  # the page reads it for the X-CSRF-Token header
    assert response.json()["csrf_token"] == browser.cookies["eco2_csrf"]

    me = browser.get("/api/v1/users/me").json()
    assert me["id"] == response.json()["user_id"]
    assert me["nickname"] == fake.signed_in_as.nickname and me["providers"] == [kind]

    _, again = sign_in_with(api, fake)
    assert again["user_id"] == me["id"]


def test_a_return_path_gets_a_redirect_and_other_sites_are_refused(
    api: httpx.Client, providers: dict[str, FakeProvider]
) -> None:
    browser = Browser(api)
    response = browser.sign_in("google", return_to="/scans?tab=recent")
    assert response.status_code == 303 and response.headers["location"] == "/scans?tab=recent"
    assert set(browser.cookies) >= SESSION_COOKIES
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        refused = Browser(api).get("/api/v1/auth/google/authorize", params={"return_to": target})
        assert refused.status_code == 400 and "return_to" in refused.json()["detail"]


def test_linking_a_second_provider_needs_the_session_and_then_both_sign_in_as_one_user(
    api: httpx.Client, providers: dict[str, FakeProvider]
) -> None:
    browser, session = sign_in_with(api, providers["google"])
    anonymous = Browser(api).get("/api/v1/auth/kakao/authorize", params={"link": "true"})
    assert anonymous.status_code == 401 and "signed-in user" in anonymous.json()["detail"]

    linked = browser.sign_in("kakao", link="true")
    assert linked.status_code == 200 and linked.json() == {"provider": "kakao", "linked": True}
    assert browser.get("/api/v1/users/me").json()["providers"] == ["google", "kakao"]
    _, via_kakao = sign_in_with(api, providers["kakao"])
    assert via_kakao["user_id"] == session["user_id"]


def test_an_account_of_another_user_cannot_be_linked(
    api: httpx.Client, providers: dict[str, FakeProvider]
) -> None:
    _, first = sign_in_with(api, providers["naver"])  # the naver account now belongs to `first`
    providers["google"].signed_in_as = providers["google"].signed_in_as.__class__("g-other", "other")
    other, second = sign_in_with(api, providers["google"])
    refused = other.sign_in("naver", link="true")
    assert refused.status_code == 409 and "another user" in refused.json()["detail"]
    assert other.get("/api/v1/users/me").json()["providers"] == ["google"]
    assert first["user_id"] != second["user_id"]


def _no_session(browser: Browser, response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "sign_in_rejected"
    assert not SESSION_COOKIES & set(browser.cookies)
    assert "set-cookie" not in {name.lower() for name in response.headers}


def test_a_state_that_does_not_match_the_browser_is_refused_before_the_provider_is_asked(
    api: httpx.Client, providers: dict[str, FakeProvider]
) -> None:
    fake = providers["google"]
    browser = Browser(api)
    callback = browser.consent(browser.start("google"))
    before = fake.token_requests
    forged = callback.replace(f"state={query_of(callback)['state']}", "state=forged")
    response = browser.get(forged)
    _no_session(browser, response)
    assert "state" in response.json()["detail"]
    stranger = Browser(api)  # a browser that never started this sign-in (login CSRF)
    _no_session(stranger, stranger.get(callback))
    assert fake.token_requests == before


def test_a_replayed_callback_is_refused(api: httpx.Client, providers: dict[str, FakeProvider]) -> None:
    browser = Browser(api)
    callback = browser.consent(browser.start("kakao"))
    state_cookie = dict(browser.cookies)
    assert browser.get(callback).status_code == 200

    replay = Browser(api)
    replay.cookies = state_cookie  # the same browser state, the same code, again
    response = replay.get(callback)
    _no_session(replay, response)
    assert "already used" in response.json()["detail"]


def test_a_code_replayed_into_a_fresh_attempt_is_refused_by_the_provider(
    api: httpx.Client, providers: dict[str, FakeProvider]
) -> None:
    first = Browser(api)
    used_callback = first.consent(first.start("naver"))
    assert first.get(used_callback).status_code == 200
    second = Browser(api)
    fresh = second.consent(second.start("naver"))
    replayed = fresh.replace(f"code={query_of(fresh)['code']}", f"code={query_of(used_callback)['code']}")
    response = second.get(replayed)
    _no_session(second, response)
    assert "invalid_grant" in response.json()["detail"]


@pytest.mark.parametrize("kind", ["google", "kakao", "naver"])
def test_an_intercepted_code_is_useless_without_its_pkce_verifier(
    api: httpx.Client, providers: dict[str, FakeProvider], kind: str
) -> None:
    victim = Browser(api)
    stolen_code = query_of(victim.consent(victim.start(kind)))["code"]
    attacker = Browser(api)
    own = attacker.consent(attacker.start(kind))  # the attacker's own state and verifier
    response = attacker.get(own.replace(f"code={query_of(own)['code']}", f"code={stolen_code}"))
    _no_session(attacker, response)
    assert "PKCE verification failed" in response.json()["detail"]


def test_the_providers_error_redirect_is_a_clear_refusal(
    api: httpx.Client, providers: dict[str, FakeProvider]
) -> None:
    providers["kakao"].deny_next = True
    browser = Browser(api)
    response = browser.sign_in("kakao")
    _no_session(browser, response)
    assert response.json()["detail"] == "kakao sign-in failed: User denied access"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "someone-else"}, "aud"),
        ({"iss": "https://accounts.evil.example"}, "iss"),
        ({"exp": 1_000_000_000}, "expired"),
        ({"nonce": "not-the-nonce-we-sent"}, "nonce"),
    ],
)
def test_a_bad_id_token_from_the_token_endpoint_opens_no_session(
    api: httpx.Client, providers: dict[str, FakeProvider], overrides: dict[str, object], reason: str
) -> None:
    providers["google"].id_token_overrides = overrides
    browser = Browser(api)
    response = browser.sign_in("google")
    _no_session(browser, response)
    assert reason in response.json()["detail"]


def test_an_unconfigured_provider_is_not_offered(api: httpx.Client) -> None:
    assert api.get("/api/v1/auth/providers").json() == {"providers": ["google", "kakao", "naver", "local"]}
    assert api.get("/api/v1/auth/github/authorize").status_code == 422
    local = api.get("/api/v1/auth/local/authorize")
    assert local.status_code == 400 and "POST /api/v1/auth/local/token" in local.json()["detail"]


@pytest.mark.parametrize("kind", ["google", "naver"])  # the OIDC client (Google, Kakao) and Naver's own
def test_a_sign_in_builds_no_tls_context(
    api: httpx.Client, providers: dict[str, FakeProvider], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every provider call (authorization URL, token, profile or keys) shares the process's TLS context:
    building one per call cost ~36 ms of CPU each, two or three per sign-in."""
    sign_in_with(api, providers[kind])  # the first may build it
    loads = count_ca_loads(monkeypatch)
    sign_in_with(api, providers[kind])
    assert loads == []
