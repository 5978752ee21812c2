"""Fake Google, Kakao and Naver sign-in servers speaking each provider's protocol and response shapes.

Like the real ones they check the client id and secret, the redirect URI, and that a code is used once; unlike
Naver (which ignores PKCE) all three ENFORCE PKCE S256, so a client that forgets or breaks it fails here.
Google and Kakao are OpenID Connect providers (discovery document, JWKS, RS256 id_tokens with the nonce);
Naver is plain OAuth 2.0 (its token endpoint wants `state` again, answers errors with HTTP 200, and its
profile API wraps the user in `response`). The "browser" of a test is signed in to the provider as
`signed_in_as`; `deny_next` makes the user press cancel.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse, RedirectResponse
from jwt.algorithms import RSAAlgorithm

from tests.support.asgi_server import ThreadedServer

# Paths as the real providers lay them out (under one host per fake).
PATHS = {
    "google": {"authorize": "/o/oauth2/v2/auth", "token": "/token", "jwks": "/oauth2/v3/certs"},
    "kakao": {"authorize": "/oauth/authorize", "token": "/oauth/token", "jwks": "/.well-known/jwks.json"},
    "naver": {"authorize": "/oauth2.0/authorize", "token": "/oauth2.0/token", "profile": "/v1/nid/me"},
}


@dataclass(frozen=True)
class FakeUser:
    subject: str
    nickname: str


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    state: str
    nonce: str | None
    user: FakeUser
    used: bool = False


@dataclass
class FakeProvider:
    kind: str
    client_id: str
    client_secret: str
    port: int
    signed_in_as: FakeUser = field(default_factory=lambda: FakeUser("100001", "fake user"))
    deny_next: bool = False
    # Claims the token endpoint's next id_tokens get replaced (a misbehaving or forged provider).
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    kid: str = field(default_factory=lambda: secrets.token_hex(8))
    token_requests: int = 0
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _access_tokens: dict[str, FakeUser] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return self.url

    def url_of(self, name: str) -> str:
        return self.url + PATHS[self.kind][name]

    def jwks(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def mint_id_token(
        self,
        user: FakeUser | None = None,
        nonce: str | None = None,
        access_token: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        header: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> str:
        """An id_token as this provider signs it; `overrides` replace claims (aud, iss, exp, ...)."""
        user = user or self.signed_in_as
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": user.subject,
            "iat": now,
            "exp": now + 3600,
            "auth_time": now,
        }
        claims["nickname" if self.kind == "kakao" else "name"] = user.nickname
        if nonce is not None:
            claims["nonce"] = nonce
        if access_token is not None:
            digest = hashlib.sha256(access_token.encode()).digest()
            claims["at_hash"] = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
        claims.update(overrides)
        headers = {"kid": self.kid, **(header or {})}
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers=headers)

    def issue_access_token(self, user: FakeUser | None = None) -> str:
        token = secrets.token_urlsafe(24)
        self._access_tokens[token] = user or self.signed_in_as
        return token

    def serve(self) -> ThreadedServer:
        return ThreadedServer(self._app(), name=f"fake-{self.kind}", port=self.port, lifespan="off")

    # -- the protocol ------------------------------------------------------------------------------------

    def _authorize(self, request: Request) -> RedirectResponse | JSONResponse:
        query = request.query_params
        redirect_uri = query.get("redirect_uri")
        if query.get("client_id") != self.client_id or not redirect_uri:
            return JSONResponse({"error": "invalid_client"}, status_code=400)
        state = query.get("state", "")

        def back(**params: str) -> RedirectResponse:
            return RedirectResponse(
                f"{redirect_uri}?{urlencode({**params, 'state': state})}", status_code=302
            )

        if self.deny_next:
            self.deny_next = False
            return back(error="access_denied", error_description="User denied access")
        if query.get("response_type") != "code":
            return back(error="unsupported_response_type", error_description="only code is supported")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return back(error="invalid_request", error_description="code_challenge (S256) is required")
        code = secrets.token_urlsafe(16)
        self._grants[code] = _Grant(
            self.client_id,
            redirect_uri,
            query["code_challenge"],
            state,
            query.get("nonce"),
            self.signed_in_as,
        )
        return back(code=code)

    def _token_error(self, error: str, description: str) -> JSONResponse:
        # Naver answers token errors with HTTP 200; Google and Kakao with 400.
        status = 200 if self.kind == "naver" else 400
        return JSONResponse({"error": error, "error_description": description}, status_code=status)

    def _token(self, form: dict[str, str]) -> JSONResponse:
        self.token_requests += 1
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return self._token_error("invalid_client", "Bad client credentials")
        if form.get("grant_type") != "authorization_code":
            return self._token_error("unsupported_grant_type", "only authorization_code")
        grant = self._grants.get(form.get("code", ""))
        if grant is None or grant.used:
            if grant is not None:
                grant.used = True
            return self._token_error("invalid_grant", "authorization code not found or already used")
        grant.used = True
        if self.kind != "naver" and form.get("redirect_uri") != grant.redirect_uri:
            return self._token_error("invalid_grant", "redirect_uri mismatch")
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not verifier or challenge != grant.challenge:
            return self._token_error("invalid_grant", "PKCE verification failed")
        if self.kind == "naver" and form.get("state") != grant.state:
            return self._token_error("invalid_request", "state mismatch")
        access_token = self.issue_access_token(grant.user)
        body: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "bearer" if self.kind != "google" else "Bearer",
            "refresh_token": secrets.token_urlsafe(24),
            "expires_in": "3600" if self.kind == "naver" else 3599,
        }
        if self.kind != "naver":
            overrides = dict(self.id_token_overrides)
            nonce = overrides.pop("nonce", grant.nonce)
            body["id_token"] = self.mint_id_token(grant.user, nonce, access_token, **overrides)
            body["scope"] = "openid profile"
        return JSONResponse(body)

    def _naver_profile(self, authorization: str | None) -> JSONResponse:
        token = (authorization or "").removeprefix("Bearer ")
        user = self._access_tokens.get(token)
        if user is None:
            return JSONResponse({"resultcode": "024", "message": "Authentication failed"}, status_code=401)
        profile = {"id": user.subject, "nickname": user.nickname, "name": user.nickname}
        return JSONResponse({"resultcode": "00", "message": "success", "response": profile})

    def _kakao_me(self, authorization: str | None) -> JSONResponse:
        user = self._access_tokens.get((authorization or "").removeprefix("Bearer "))
        if user is None:
            return JSONResponse({"msg": "this access token does not exist", "code": -401}, status_code=401)
        profile = {"nickname": user.nickname}
        return JSONResponse(
            {"id": int(user.subject), "properties": profile, "kakao_account": {"profile": profile}}
        )

    def _app(self) -> FastAPI:
        app = FastAPI()
        paths = PATHS[self.kind]
        app.get(paths["authorize"], response_model=None)(self._authorize)

        @app.post(paths["token"])
        async def token(request: Request) -> JSONResponse:
            form = {name: values[0] for name, values in parse_qs((await request.body()).decode()).items()}
            return self._token(form)

        if self.kind == "naver":

            @app.get(paths["profile"])
            def profile(authorization: str | None = Header(None)) -> JSONResponse:
                return self._naver_profile(authorization)

            return app

        @app.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, Any]:
            return {
                "issuer": self.issuer,
                "authorization_endpoint": self.url_of("authorize"),
                "token_endpoint": self.url_of("token"),
                "jwks_uri": self.url_of("jwks"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }

        app.get(paths["jwks"])(self.jwks)

        @app.get("/v2/user/me")
        def kakao_me(authorization: str | None = Header(None)) -> JSONResponse:
            return self._kakao_me(authorization)

        return app
