"""Signing in from tests: the local provider for "a signed-in user", and the fake providers' settings."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from apps.auth.tokens import sign_access_token
from apps.core.access_tokens import key_ring
from apps.core.settings import Settings
from tests.support.provisioning import free_port

# The fake Google, Kakao and Naver servers (tests/fakes/oauth_providers.py) listen on these ports; the
# settings below point the API at them before anything reads the settings.
PROVIDER_PORTS = {"google": free_port(), "kakao": free_port(), "naver": free_port()}
CLIENTS = {kind: (f"{kind}-test-client", f"{kind}-test-secret") for kind in PROVIDER_PORTS}


def provider_environment() -> dict[str, str]:
    google, kakao, naver = (
        f"http://127.0.0.1:{PROVIDER_PORTS[kind]}" for kind in ("google", "kakao", "naver")
    )
    environment = {
        "ECO2_GOOGLE_DISCOVERY_URL": f"{google}/.well-known/openid-configuration",
        "ECO2_KAKAO_DISCOVERY_URL": f"{kakao}/.well-known/openid-configuration",
        "ECO2_KAKAO_NATIVE_APP_KEYS": '["kakao-test-native-app-key"]',
        "ECO2_NAVER_AUTHORIZE_URL": f"{naver}/oauth2.0/authorize",
        "ECO2_NAVER_TOKEN_URL": f"{naver}/oauth2.0/token",
        "ECO2_NAVER_USERINFO_URL": f"{naver}/v1/nid/me",
        # Every test signs in from 127.0.0.1; the rate-limit test uses its own, tight limits.
        "ECO2_AUTH_RATE_LIMIT_PER_MINUTE": "100000",
        "ECO2_AUTH_RATE_LIMIT_BURST": "100000",
    }
    for kind, (client_id, client_secret) in CLIENTS.items():
        environment[f"ECO2_{kind.upper()}_CLIENT_ID"] = client_id
        environment[f"ECO2_{kind.upper()}_CLIENT_SECRET"] = client_secret
    return environment


@dataclass(frozen=True)
class SignedIn:
    user_id: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def sign_in(api: httpx.Client, nickname: str = "tester", subject: str | None = None) -> SignedIn:
    """A new user (or the same one again for the same subject), through the local sign-in provider; its
    `.headers` are what every API test sends as "a signed-in user"."""
    response = api.post(
        "/api/v1/auth/local/token", json={"subject": subject or uuid.uuid4().hex, "nickname": nickname}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return SignedIn(body["user_id"], body["access_token"], body["refresh_token"])


def access_token_for(user_id: uuid.UUID, settings: Settings) -> str:
    """A valid access token of ours for any user id, signed with the configured key (no session row)."""
    token, _ = sign_access_token(key_ring(settings), settings, user_id, uuid.uuid4(), None)
    return token


def fresh_signing_key_pem() -> str:
    """A new Ed25519 private key (PKCS#8 PEM): what a deployed environment must be configured with."""
    return (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
