"""Native apps exchange the provider SDK's id_token (Google, Kakao) or access token (Naver) for our tokens;
every id_token that is not the provider's, for us, and current is refused and opens no session."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func
from sqlmodel import Session, select

from apps.auth.models import RefreshToken
from apps.core.db import get_engine
from apps.users.models import User
from tests.fakes.oauth_providers import FakeProvider


def _exchange(api: httpx.Client, provider: str, **body: str) -> httpx.Response:
    return api.post(f"/api/v1/auth/{provider}/token", json=body)


def _counts() -> tuple[int, int]:
    with Session(get_engine()) as session:
        users = session.exec(select(func.count()).select_from(User)).one()
        tokens = session.exec(select(func.count()).select_from(RefreshToken)).one()
    return users, tokens


def test_an_id_token_of_the_provider_signs_in_and_gives_bearer_tokens(
    api: httpx.Client, providers: dict[str, FakeProvider]
) -> None:
    google = providers["google"]
    response = _exchange(api, "google", id_token=google.mint_id_token(nonce="n-1"), nonce="n-1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900 and body["refresh_token"]
    me = api.get("/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert me["id"] == body["user_id"] and me["providers"] == ["google"]


def test_kakao_accepts_the_native_app_key_as_audience(
    api: httpx.Client, providers: dict[str, FakeProvider]
) -> None:
    kakao = providers["kakao"]
    native = kakao.mint_id_token(aud="kakao-test-native-app-key")
    assert _exchange(api, "kakao", id_token=native).status_code == 200
    assert _exchange(api, "kakao", id_token=kakao.mint_id_token(aud="another-app")).status_code == 400


def test_naver_access_tokens_are_checked_with_the_profile_api(
    api: httpx.Client, providers: dict[str, FakeProvider]
) -> None:
    naver = providers["naver"]
    assert _exchange(api, "naver", access_token=naver.issue_access_token()).status_code == 200
    before = _counts()
    refused = _exchange(api, "naver", access_token="not-a-naver-token")
    assert refused.status_code == 400 and "naver refused" in refused.json()["detail"]
    assert _exchange(api, "naver", id_token="x").status_code == 400  # Naver has no id_token
    assert _counts() == before


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _unsigned(token: str) -> str:
    _, payload, _ = token.split(".")
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    return f"{header}.{payload}."


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        (lambda fake: _tampered(fake.mint_id_token()), "not validly signed"),
        (lambda fake: fake.mint_id_token(exp=1_000_000_000, iat=999_000_000), "expired"),
        (lambda fake: fake.mint_id_token(aud="another-client"), "aud"),
        (lambda fake: fake.mint_id_token(iss="https://accounts.evil.example"), "iss"),
        (lambda fake: fake.mint_id_token(key=rsa.generate_private_key(65537, 2048)), "not validly signed"),
        (
            lambda fake: fake.mint_id_token(
                key=rsa.generate_private_key(65537, 2048), header={"kid": "k-other"}
            ),
            "not validly signed",
        ),
        (lambda fake: _unsigned(fake.mint_id_token()), "not validly signed"),
        (lambda fake: fake.mint_id_token(nonce="sent-by-someone-else"), "nonce"),
        (lambda fake: "not.a.jwt", "not validly signed"),
    ],
    ids=[
        "tampered",
        "expired",
        "wrong-audience",
        "wrong-issuer",
        "wrong-key",
        "unknown-key",
        "alg-none",
        "wrong-nonce",
        "garbage",
    ],
)
@pytest.mark.parametrize("kind", ["google", "kakao"])
def test_a_forged_or_stale_id_token_is_refused_and_opens_no_session(
    api: httpx.Client, providers: dict[str, FakeProvider], kind: str, forge: object, reason: str
) -> None:
    before = _counts()
    token = forge(providers[kind])  # type: ignore[operator]
    response = _exchange(api, kind, id_token=token, nonce="the-apps-nonce")
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "sign_in_rejected" and reason in response.json()["detail"]
    assert "access_token" not in response.json()
    assert _counts() == before


def test_an_id_token_is_required_for_oidc_providers(
    api: httpx.Client, providers: dict[str, FakeProvider]
) -> None:
    response = _exchange(api, "google", access_token="ya29.something")
    assert response.status_code == 400 and "id_token" in response.json()["detail"]
