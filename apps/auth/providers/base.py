"""What every sign-in provider offers: the browser redirect flow and the native-app token exchange."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import httpx2
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from apps.auth.exceptions import ProviderUnavailable, SignInRejected
from apps.core.tls import tls_context

HTTP_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class ProviderIdentity:
    provider: str
    subject: str  # the provider's stable user id
    nickname: str | None


@dataclass(frozen=True)
class Authorization:
    """One sign-in attempt: what the callback needs to finish it (kept in the signed state cookie)."""

    state: str
    code_verifier: str
    nonce: str
    redirect_uri: str


@dataclass(frozen=True)
class NativeCredentials:
    """What a native app sends after signing in with the provider's SDK."""

    id_token: str | None = None
    access_token: str | None = None
    nonce: str | None = None
    subject: str | None = None  # local provider only
    nickname: str | None = None  # local provider only


class Provider(Protocol):
    name: str

    def authorization_url(self, attempt: Authorization) -> str: ...

    def finish(self, code: str, attempt: Authorization) -> ProviderIdentity: ...

    def identify(self, credentials: NativeCredentials) -> ProviderIdentity: ...


def oauth_client(client_id: str, client_secret: str, scope: str, redirect_uri: str | None) -> OAuth2Client:
    """authlib's client with PKCE S256; the secret goes in the token request body (Kakao, Naver, Google)."""
    return OAuth2Client(
        client_id=client_id,
        client_secret=client_secret,
        scope=scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 (a method name)
        timeout=HTTP_TIMEOUT_SECONDS,
        verify=tls_context(),
    )


@contextmanager
def provider_errors(provider: str, step: str) -> Iterator[None]:
    """Refusals by the provider become SignInRejected; an unreachable or broken one, ProviderUnavailable."""
    try:
        yield
    except OAuthError as error:
        description = f": {error.description}" if error.description else ""
        raise SignInRejected(f"{provider} refused the {step} ({error.error}{description})") from error
    except httpx2.HTTPStatusError as error:
        if error.response.status_code < 500:
            raise SignInRejected(
                f"{provider} refused the {step} (HTTP {error.response.status_code})"
            ) from error
        raise ProviderUnavailable(f"{provider} failed during the {step}; try again later") from error
    except (httpx2.HTTPError, ValueError) as error:
        raise ProviderUnavailable(
            f"{provider} could not be reached for the {step}; try again later"
        ) from error
