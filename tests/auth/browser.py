"""A browser for the sign-in tests: keeps cookies (Secure ones too: the API is plain HTTP on loopback here)
with their attributes, and follows the redirect dance between the API and a fake provider by hand."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.fakes.oauth_providers import FakeProvider


class Browser:
    def __init__(self, api: httpx.Client) -> None:
        self.api = api
        self.cookies: dict[str, str] = {}
        self.attributes: dict[str, dict[str, Any]] = {}

    def _store(self, response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            parsed = SimpleCookie()
            parsed.load(header)
            for name, morsel in parsed.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                    continue
                self.cookies[name] = morsel.value
                self.attributes[name] = {
                    "httponly": bool(morsel["httponly"]),
                    "secure": bool(morsel["secure"]),
                    "samesite": morsel["samesite"],
                    "path": morsel["path"],
                }

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        response = self.api.request(method, url, headers=headers, **kwargs)
        self._store(response)
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    @property
    def csrf(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.cookies["eco2_csrf"]}

    def start(self, provider: str, **params: Any) -> str:
        """Begin signing in; returns the provider's authorization URL the API redirected to."""
        response = self.get(f"/api/v1/auth/{provider}/authorize", params=params)
        assert response.status_code == 302, response.text
        return response.headers["location"]

    def consent(self, authorization_url: str) -> str:
        """The person signs in at the provider; returns the API callback path (and query) it sends them to."""
        response = httpx.get(authorization_url, follow_redirects=False)
        assert response.status_code == 302, response.text
        location = urlsplit(response.headers["location"])
        return f"{location.path}?{location.query}"

    def sign_in(self, provider: str, **params: Any) -> httpx.Response:
        return self.get(self.consent(self.start(provider, **params)))


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def sign_in_with(api: httpx.Client, fake: FakeProvider) -> tuple[Browser, dict[str, Any]]:
    browser = Browser(api)
    response = browser.sign_in(fake.kind)
    assert response.status_code == 200, response.text
    return browser, response.json()
