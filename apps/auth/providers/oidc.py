"""OpenID Connect providers (Google, Kakao): discovery, code exchange with PKCE, id_token verification."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx2
from authlib.oidc.core import CodeIDToken, IDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

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

# Both providers sign id_tokens with RS256; nothing else (`none`, HS256) is accepted.
ID_TOKEN_ALGORITHMS = ["RS256"]
METADATA_TTL_SECONDS = 3600.0
CLOCK_LEEWAY_SECONDS = 60

_cache_lock = threading.Lock()
_metadata_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_jwks_cache: dict[str, KeySet] = {}


def _get_json(url: str, provider: str, step: str) -> dict[str, Any]:
    with provider_errors(provider, step):
        response = httpx2.get(url, timeout=HTTP_TIMEOUT_SECONDS, verify=tls_context())
        response.raise_for_status()
        body: dict[str, Any] = response.json()
    return body


class OidcProvider:
    def __init__(
        self,
        name: str,
        client_id: str,
        client_secret: str,
        discovery_url: str,
        scope: str,
        native_audiences: list[str],
    ) -> None:
        self.name = name
        self.client_id = client_id
        self.client_secret = client_secret
        self.discovery_url = discovery_url
        self.scope = scope
        self.native_audiences = native_audiences

    def _metadata(self) -> dict[str, Any]:
        with _cache_lock:
            cached = _metadata_cache.get(self.discovery_url)
        if cached is not None and time.monotonic() - cached[0] < METADATA_TTL_SECONDS:
            return cached[1]
        metadata = _get_json(self.discovery_url, self.name, "discovery request")
        with _cache_lock:
            _metadata_cache[self.discovery_url] = (time.monotonic(), metadata)
        return metadata

    def _keys(self, refresh: bool = False) -> KeySet:
        uri = self._metadata()["jwks_uri"]
        with _cache_lock:
            keys = None if refresh else _jwks_cache.get(uri)
        if keys is None:
            keys = KeySet.import_key_set(_get_json(uri, self.name, "key set request"))  # type: ignore[arg-type]
            with _cache_lock:
                _jwks_cache[uri] = keys
        return keys

    def authorization_url(self, attempt: Authorization) -> str:
        client = oauth_client(self.client_id, self.client_secret, self.scope, attempt.redirect_uri)
        with client:
            url, _ = client.create_authorization_url(
                self._metadata()["authorization_endpoint"],
                state=attempt.state,
                code_verifier=attempt.code_verifier,
                nonce=attempt.nonce,
            )
        return str(url)

    def finish(self, code: str, attempt: Authorization) -> ProviderIdentity:
        client = oauth_client(self.client_id, self.client_secret, self.scope, attempt.redirect_uri)
        with client, provider_errors(self.name, "authorization code"):
            token = client.fetch_token(
                self._metadata()["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=attempt.code_verifier,
            )
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInRejected(
                f"{self.name} returned no id_token; is the openid scope enabled for the app?"
            )
        claims = self.verify_id_token(id_token, [self.client_id], attempt.nonce, token.get("access_token"))
        return self._identity(claims)

    def identify(self, credentials: NativeCredentials) -> ProviderIdentity:
        if not credentials.id_token:
            raise SignInRejected(f"{self.name} sign-in from an app needs the id_token of the provider's SDK")
        audiences = [self.client_id, *self.native_audiences]
        return self._identity(self.verify_id_token(credentials.id_token, audiences, credentials.nonce, None))

    def verify_id_token(
        self, id_token: str, audiences: list[str], nonce: str | None, access_token: str | None
    ) -> dict[str, Any]:
        """Signature against the provider's JWKS (refetched once for an unknown key id), then issuer,
        audience, expiry, issue time, nonce and (with an access token) at_hash."""
        registry = JWSRegistry(algorithms=ID_TOKEN_ALGORITHMS)
        try:
            try:
                decoded = jwt.decode(id_token, self._keys(), registry=registry)
            except InvalidKeyIdError:
                decoded = jwt.decode(id_token, self._keys(refresh=True), registry=registry)
        except (JoseError, ValueError) as error:
            raise SignInRejected(
                f"the {self.name} id_token is not validly signed ({_reason(error)})"
            ) from error
        options = {
            "iss": {"essential": True, "value": self._metadata()["issuer"]},
            "aud": {"essential": True, "values": audiences},
        }
        # `azp` (the client the token was issued to) must be one of ours: the web client for the redirect
        # flow, any of the apps' client ids for native sign-in.
        azp, aud = decoded.claims.get("azp"), decoded.claims.get("aud")
        single_aud = aud[0] if isinstance(aud, list) and len(aud) == 1 else aud
        party = next((value for value in (azp, single_aud) if value in audiences), self.client_id)
        params: dict[str, Any] = {"nonce": nonce, "client_id": party}
        if access_token:
            params["access_token"] = access_token
        claims_class = CodeIDToken if access_token else IDToken
        claims = claims_class(decoded.claims, decoded.header, options, params)
        try:
            claims.validate(leeway=CLOCK_LEEWAY_SECONDS)
        except JoseError as error:
            raise SignInRejected(f"the {self.name} id_token was refused ({_reason(error)})") from error
        return dict(claims)

    def _identity(self, claims: dict[str, Any]) -> ProviderIdentity:
        nickname = claims.get("nickname") or claims.get("name")
        return ProviderIdentity(self.name, str(claims["sub"]), str(nickname) if nickname else None)


def _reason(error: Exception) -> str:
    return str(getattr(error, "description", None) or getattr(error, "error", None) or error)
