"""Our access tokens as every service checks them: locally, with no database query.

A token is a JWT signed with the identity service's private key (EdDSA for Ed25519 keys, RS256 for RSA keys)
and carries the key's id (`kid`). A service verifies it against the public keys it derives from its settings:
the current key, and during a rotation the previous one. The algorithm is pinned per key id, so `alg: none`
and HS256 tokens keyed with a public key are refused. After the signature and claims, one Redis round trip
(MGET) asks whether the user was deleted or the session ended since the token was issued; when Redis cannot
answer, the request fails closed (the caller gets a 503 to retry): a deleted user's token must not work.

The signature check is most of a token check's CPU, and a client sends the same token with every request
until it expires, so each key ring keeps the claims of the tokens it verified (the exact token text, a
bounded LRU): a repeat is checked for expiry only, and still for revocation. Only successes are kept; a key
rotation builds a new ring, with an empty cache.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

from apps.core.settings import Settings

AUDIENCE = "eco2-api"
TOKEN_TYPE = "at+jwt"  # noqa: S105 — RFC 9068 header `typ`, so no other JWT of ours passes as an access token
ACCESS_COOKIE = "eco2_access"
REFRESH_COOKIE = "eco2_refresh"
CSRF_COOKIE = "eco2_csrf"
CSRF_HEADER = "X-CSRF-Token"
# How long past its expiry a token is still accepted (clock skew between services).
LEEWAY_SECONDS = 30
# Verified tokens a key ring remembers (about 1 KB each): more than the users one API process serves at once.
VERIFIED_TOKENS_KEPT = 4096

_REVOKED_USER = "eco2:auth:revoked:user:{}"
_REVOKED_SESSION = "eco2:auth:revoked:session:{}"


class InvalidToken(Exception):
    """The token is malformed, expired, not ours, or signed with a key or algorithm we do not accept."""


@dataclass(frozen=True)
class VerificationKey:
    kid: str
    algorithm: str
    public_key: ed25519.Ed25519PublicKey | rsa.RSAPublicKey

    def jwk(self) -> dict[str, Any]:
        if isinstance(self.public_key, ed25519.Ed25519PublicKey):
            jwk = OKPAlgorithm.to_jwk(self.public_key, as_dict=True)
        else:
            jwk = RSAAlgorithm.to_jwk(self.public_key, as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


@dataclass(frozen=True)
class KeyRing:
    """The key we sign with (none in a verify-only service) and every key we accept (current one first)."""

    private_key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | None
    current: VerificationKey
    accepted: tuple[VerificationKey, ...]
    # (token, issuer) → (the caller, the token's `exp`): `_verify` remembered for this ring's keys.
    verified: Callable[[str, str], tuple[Principal, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        remembered = lru_cache(maxsize=VERIFIED_TOKENS_KEPT)(
            lambda token, issuer: _verify(token, self, issuer)
        )
        object.__setattr__(self, "verified", remembered)

    @property
    def signing_key(self) -> ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey:
        if self.private_key is None:
            raise RuntimeError("this service only verifies tokens (ECO2_TOKEN_PUBLIC_KEY); it cannot sign")
        return self.private_key

    def find(self, kid: object) -> VerificationKey | None:
        return next((key for key in self.accepted if key.kid == kid), None)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        return {"keys": [key.jwk() for key in self.accepted]}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as the token says: no database row behind it."""

    id: uuid.UUID  # the user id
    session_id: uuid.UUID
    csrf_hash: str | None  # set for browser sessions: the hash of the CSRF token bound to the session


def _algorithm_of(key: object) -> str:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, rsa.RSAPublicKey):
        return "RS256"
    raise ValueError(f"unsupported token key type {type(key).__name__}; use Ed25519 or RSA")


def thumbprint(public_key: ed25519.Ed25519PublicKey | rsa.RSAPublicKey) -> str:
    """RFC 7638 JWK thumbprint: a key id that every service derives from the key itself."""
    jwk = VerificationKey("", _algorithm_of(public_key), public_key).jwk()
    members = ("crv", "kty", "x") if jwk["kty"] == "OKP" else ("e", "kty", "n")
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def _verification_key(public_key: Any, kid: str | None) -> VerificationKey:
    return VerificationKey(kid or thumbprint(public_key), _algorithm_of(public_key), public_key)


@lru_cache(maxsize=8)
def _key_ring(
    private_pem: str | None,
    public_pem: str | None,
    kid: str | None,
    previous_public_pem: str | None,
    previous_kid: str | None,
) -> KeyRing:
    private_key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | None = None
    if private_pem is not None:
        loaded = serialization.load_pem_private_key(private_pem.encode(), password=None)
        assert isinstance(loaded, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey)  # checked by Settings
        private_key = loaded
        public_key: Any = loaded.public_key()
    else:
        assert public_pem is not None, "Settings require a signing key or a public key"
        public_key = serialization.load_pem_public_key(public_pem.encode())
    current = _verification_key(public_key, kid)
    accepted = [current]
    if previous_public_pem:
        previous = _verification_key(
            serialization.load_pem_public_key(previous_public_pem.encode()), previous_kid
        )
        if previous.kid == current.kid:
            raise ValueError("the previous token key has the same key id as the current one")
        accepted.append(previous)
    return KeyRing(private_key, current, tuple(accepted))


def key_ring(settings: Settings) -> KeyRing:
    return _key_ring(
        settings.signing_key_pem,
        settings.token_public_key,
        settings.token_signing_key_id,
        settings.token_previous_public_key,
        settings.token_previous_key_id,
    )


def csrf_hash(csrf_token: str) -> str:
    return hashlib.sha256(csrf_token.encode()).hexdigest()


def verify_access_token(token: str, ring: KeyRing, issuer: str) -> Principal:
    """Signature, algorithm, type, issuer, audience and expiry; raises InvalidToken with the reason.
    The expiry is checked on every call, the rest once per token and ring (see the module's docstring)."""
    principal, expires_at = ring.verified(token, issuer)
    if time.time() > expires_at + LEEWAY_SECONDS:
        raise InvalidToken("token expired")
    return principal


def _verify(token: str, ring: KeyRing, issuer: str) -> tuple[Principal, int]:
    """The full check, and the token's expiry (seconds since the epoch)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as error:
        raise InvalidToken("malformed token") from error
    key = ring.find(header.get("kid"))
    if key is None:
        raise InvalidToken("token signed with an unknown key")
    if header.get("alg") != key.algorithm or header.get("typ") != TOKEN_TYPE:
        raise InvalidToken("token has the wrong algorithm or type")
    try:
        claims = jwt.decode(
            token,
            key.public_key,
            algorithms=[key.algorithm],
            audience=AUDIENCE,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["sub", "sid", "exp", "iat", "iss", "aud"]},
        )
        csrf = claims.get("csrf")
        principal = Principal(
            uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"]), csrf if isinstance(csrf, str) else None
        )
        return principal, int(claims["exp"])
    except jwt.ExpiredSignatureError as error:
        raise InvalidToken("token expired") from error
    except (jwt.InvalidTokenError, ValueError, TypeError) as error:
        raise InvalidToken("invalid token") from error


def revocation_keys(principal: Principal) -> list[str]:
    """The Redis keys whose presence revokes the token: its user was deleted, or its session ended."""
    return [_REVOKED_USER.format(principal.id), _REVOKED_SESSION.format(principal.session_id)]


def revoked_by(values: list[Any]) -> bool:
    """Whether the values read for `revocation_keys` (in that order) revoke the token."""
    return any(value is not None for value in values)


def is_revoked(redis_client: Any, principal: Principal) -> bool:
    """One MGET: the user was deleted, or the session logged out or was revoked. Raises on Redis trouble."""
    return revoked_by(redis_client.mget(revocation_keys(principal)))


def revocation_ttl_seconds(settings: Settings) -> int:
    """A revocation entry outlives every access token issued before it; refreshing checks the database."""
    return settings.access_token_ttl_seconds + LEEWAY_SECONDS + 60


def revoke_user(redis_client: Any, user_id: uuid.UUID, settings: Settings) -> None:
    redis_client.set(_REVOKED_USER.format(user_id), "1", ex=revocation_ttl_seconds(settings))


def revoke_session(redis_client: Any, session_id: uuid.UUID, settings: Settings) -> None:
    redis_client.set(_REVOKED_SESSION.format(session_id), "1", ex=revocation_ttl_seconds(settings))
