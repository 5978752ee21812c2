"""Our access tokens: verified locally against the published keys, with no database query; forged ones and
revoked sessions are refused; a key rotation keeps old tokens valid while both keys are published."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import jwt
import pytest
import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import event

from apps.auth.tokens import sign_access_token
from apps.core.access_tokens import AUDIENCE, TOKEN_TYPE, key_ring, thumbprint
from apps.core.async_clients import get_async_redis, open_async_clients
from apps.core.cache import get_redis, make_async_redis
from apps.core.db import get_engine
from apps.core.dependencies import CurrentUser, request_settings
from apps.core.settings import Settings, get_settings
from apps.main import create_app
from tests.support.identity import sign_in


def _pem(key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _public_pem(key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _me(api: httpx.Client | TestClient, token: str) -> Any:
    return api.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})


def test_the_jwks_endpoint_publishes_the_signing_key(api: httpx.Client) -> None:
    response = api.get("/api/v1/auth/.well-known/jwks.json")
    assert response.status_code == 200 and "max-age" in response.headers["cache-control"]
    (key,) = response.json()["keys"]
    ring = key_ring(get_settings())
    assert key == {
        **key,
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
        "kid": ring.current.kid,
    }
    assert key["kid"] == thumbprint(ring.current.public_key)
    token = sign_in(api).access_token
    verified = jwt.decode(
        token, jwt.PyJWK(key).key, algorithms=["EdDSA"], audience=AUDIENCE, issuer=get_settings().token_issuer
    )
    assert jwt.get_unverified_header(token)["kid"] == key["kid"] and verified["sid"]


@contextmanager
def _gateway(settings: Settings) -> Iterator[TestClient]:
    app = create_app(["auth", "users"])
    app.dependency_overrides[request_settings] = lambda: settings
    with TestClient(app) as client:
        yield client


def test_a_rotation_publishes_both_keys_and_accepts_tokens_of_either(api: httpx.Client) -> None:
    old_settings = get_settings()
    old_token = sign_in(api).access_token
    old_key = key_ring(old_settings).signing_key
    new_key = rsa.generate_private_key(65537, 2048)
    rotated = old_settings.model_copy(
        update={
            "token_signing_key": SecretStr(_pem(new_key)),
            "token_previous_public_key": _public_pem(old_key),
        }
    )
    with _gateway(rotated) as client:
        keys = client.get("/api/v1/auth/.well-known/jwks.json").json()["keys"]
        assert [key["alg"] for key in keys] == ["RS256", "EdDSA"]
        new = client.post("/api/v1/auth/local/token", json={"subject": uuid.uuid4().hex}).json()[
            "access_token"
        ]
        assert jwt.get_unverified_header(new)["alg"] == "RS256"
        assert _me(client, old_token).status_code == 200
        assert _me(client, new).status_code == 200
    finished = rotated.model_copy(update={"token_previous_public_key": None})
    with _gateway(finished) as client:
        refused = _me(client, old_token)
        assert refused.status_code == 401 and refused.json()["detail"] == "token signed with an unknown key"
        assert _me(client, new).status_code == 200


def _forged(api: httpx.Client) -> dict[str, str]:
    """Tokens an attacker can make from a real one and the public JWKS."""
    real = sign_in(api).access_token
    header_b64, payload_b64, _ = real.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
    ring = key_ring(get_settings())
    public_pem = ring.current.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def signed_hs256(secret: bytes) -> str:
        header = _b64(json.dumps({"alg": "HS256", "kid": ring.current.kid, "typ": TOKEN_TYPE}).encode())
        body = _b64(json.dumps({**claims, "sub": str(uuid.uuid4())}).encode())
        signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
        return f"{header}.{body}.{_b64(signature)}"

    none_header = _b64(json.dumps({"alg": "none", "kid": ring.current.kid, "typ": TOKEN_TYPE}).encode())
    other_key = ed25519.Ed25519PrivateKey.generate()

    def ours(**changes: Any) -> str:
        header = {"kid": ring.current.kid, "typ": TOKEN_TYPE}
        return jwt.encode({**claims, **changes}, ring.signing_key, algorithm="EdDSA", headers=header)

    return {
        "alg-none": f"{none_header}.{payload_b64}.",
        "hs256-with-the-public-key": signed_hs256(public_pem),
        "tampered": f"{header_b64}.{_b64(json.dumps({**claims, 'sub': str(uuid.uuid4())}).encode())}."
        + real.split(".")[2],
        "another-key-same-kid": jwt.encode(
            claims, other_key, algorithm="EdDSA", headers={"kid": ring.current.kid, "typ": TOKEN_TYPE}
        ),
        "expired": ours(exp=1_000_000_000, iat=999_999_000),
        "wrong-audience": ours(aud="another-api"),
        "wrong-issuer": ours(iss="someone-else"),
        "wrong-type": jwt.encode(
            claims, ring.signing_key, algorithm="EdDSA", headers={"kid": ring.current.kid}
        ),
        "garbage": "definitely-not-a-jwt",
    }


def test_forged_and_stale_tokens_of_ours_are_refused(api: httpx.Client) -> None:
    for name, token in _forged(api).items():
        response = _me(api, token)
        assert response.status_code == 401, name
        assert response.headers["www-authenticate"] == "Bearer", name
    assert api.get("/api/v1/users/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert api.get("/api/v1/users/me").json()["detail"] == "missing bearer token or session cookie"


def test_authenticating_a_request_makes_no_database_query(api: httpx.Client) -> None:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:  # CurrentUser reads the app's async Redis
        async with open_async_clients(app, get_settings()):
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/whoami")
    def whoami(user: CurrentUser) -> dict[str, str]:
        return {"id": str(user.id), "session": str(user.session_id)}

    signed_in = sign_in(api)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(get_engine(), "before_cursor_execute", count)
    try:
        with TestClient(app) as client:
            response = client.get("/whoami", headers=signed_in.headers)
    finally:
        event.remove(get_engine(), "before_cursor_execute", count)
    assert response.status_code == 200 and response.json()["id"] == signed_in.user_id
    assert statements == []


def test_when_redis_cannot_say_whether_a_token_is_revoked_the_request_fails_closed(api: httpx.Client) -> None:
    signed_in = sign_in(api)
    app = create_app(["users"])
    app.dependency_overrides[get_async_redis] = lambda: make_async_redis("redis://127.0.0.1:1/0")
    with TestClient(app) as client:
        response = client.get("/api/v1/users/me", headers=signed_in.headers)
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert "retry" in response.json()["detail"]


def test_revocation_outlives_every_token_issued_before_it(api: httpx.Client) -> None:
    signed_in = sign_in(api)
    assert api.post("/api/v1/auth/logout", headers=signed_in.headers).status_code == 204
    client: redis.Redis = get_redis()
    session_id = jwt.decode(signed_in.access_token, options={"verify_signature": False})["sid"]
    ttl = int(client.ttl(f"eco2:auth:revoked:session:{session_id}"))  # type: ignore[arg-type]
    assert ttl > get_settings().access_token_ttl_seconds


def test_a_verify_only_service_accepts_tokens_with_the_public_key_alone(
    api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in = sign_in(api)
    public_pem = _public_pem(key_ring(get_settings()).signing_key)
    verify_only = Settings(_env_file=None, environment="prod", token_public_key=public_pem)
    assert key_ring(verify_only).private_key is None
    with pytest.raises(RuntimeError, match="cannot sign"):
        _ = key_ring(verify_only).signing_key
    monkeypatch.setattr("apps.main.get_settings", lambda: verify_only)
    with pytest.raises(ValueError, match="the auth service signs tokens"):
        create_app(["auth"])
    app = create_app(["users"])
    app.dependency_overrides[request_settings] = lambda: verify_only
    with TestClient(app) as client:
        assert _me(client, signed_in.access_token).status_code == 200


def test_a_token_signed_now_carries_what_services_need(api: httpx.Client) -> None:
    settings = get_settings()
    user_id, session_id = uuid.uuid4(), uuid.uuid4()
    token, expires_at = sign_access_token(key_ring(settings), settings, user_id, session_id, None)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == str(user_id) and claims["sid"] == str(session_id) and "csrf" not in claims
    assert claims["exp"] - claims["iat"] == settings.access_token_ttl_seconds
    assert int(expires_at.timestamp()) == claims["exp"]


@pytest.mark.parametrize("bits", [1024])
def test_weak_or_unsupported_signing_keys_are_refused_by_settings(bits: int) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="at least 2048 bits"):
        Settings(_env_file=None, token_signing_key=_pem(rsa.generate_private_key(65537, bits)))
    with pytest.raises(ValidationError, match="not an unencrypted PEM private key"):
        Settings(
            _env_file=None, token_signing_key="-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"
        )
