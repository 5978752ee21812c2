"""Naver: plain OAuth 2.0 (no OIDC). The token request must repeat `state`; the profile API names the user."""

from __future__ import annotations

from typing import Any

import httpx2

from apps.auth.exceptions import SignInRejected
from apps.auth.providers.base import (
    HTTP_TIMEOUT_SECONDS,
    Authorization,
    NativeCredentials,
    ProviderIdentity,
    oauth_client,
    provider_errors,
)
from apps.core.tls import tls_context


class NaverProvider:
    name = "naver"

    def __init__(
        self, client_id: str, client_secret: str, authorize_url: str, token_url: str, userinfo_url: str
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.authorize_url = authorize_url
        self.token_url = token_url
        self.userinfo_url = userinfo_url

    def authorization_url(self, attempt: Authorization) -> str:
        with oauth_client(self.client_id, self.client_secret, "", attempt.redirect_uri) as client:
            url, _ = client.create_authorization_url(
                self.authorize_url, state=attempt.state, code_verifier=attempt.code_verifier
            )
        return str(url)

    def finish(self, code: str, attempt: Authorization) -> ProviderIdentity:
        client = oauth_client(self.client_id, self.client_secret, "", attempt.redirect_uri)
        with client, provider_errors(self.name, "authorization code"):
            token = client.fetch_token(
                self.token_url,
                body=f"state={attempt.state}",  # Naver requires it; authlib does not send it by itself
                grant_type="authorization_code",
                code=code,
                code_verifier=attempt.code_verifier,
            )
        access_token = token.get("access_token")
        if not isinstance(access_token, str):
            raise SignInRejected("naver returned no access token")
        return self._profile(access_token)

    def identify(self, credentials: NativeCredentials) -> ProviderIdentity:
        if not credentials.access_token:
            raise SignInRejected("naver sign-in from an app needs the access_token of the Naver SDK")
        return self._profile(credentials.access_token)

    def _profile(self, access_token: str) -> ProviderIdentity:
        """`GET /v1/nid/me` → `{"resultcode": "00", "message": "success", "response": {"id": ...}}`."""
        with provider_errors(self.name, "profile request"):
            response = httpx2.get(
                self.userinfo_url,
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=HTTP_TIMEOUT_SECONDS,
                verify=tls_context(),
            )
            response.raise_for_status()
            body: dict[str, Any] = response.json()
        profile = body.get("response")
        if body.get("resultcode") != "00" or not isinstance(profile, dict) or not profile.get("id"):
            raise SignInRejected(f"naver refused the access token ({body.get('message', 'no profile')})")
        nickname = profile.get("nickname") or profile.get("name")
        return ProviderIdentity(self.name, str(profile["id"]), str(nickname) if nickname else None)
