"""The local sign-in provider: a newcomer signs in without provider keys. Local and test environments only
(Settings refuses ECO2_LOCAL_SIGN_IN elsewhere); the same subject always signs in as the same user."""

from __future__ import annotations

from apps.auth.exceptions import SignInRejected
from apps.auth.providers.base import Authorization, NativeCredentials, ProviderIdentity


class LocalProvider:
    name = "local"

    def authorization_url(self, attempt: Authorization) -> str:
        raise SignInRejected("the local provider has no redirect flow; POST /api/v1/auth/local/token")

    def finish(self, code: str, attempt: Authorization) -> ProviderIdentity:
        raise SignInRejected("the local provider has no redirect flow; POST /api/v1/auth/local/token")

    def identify(self, credentials: NativeCredentials) -> ProviderIdentity:
        subject = (credentials.subject or "").strip()
        if not subject:
            raise SignInRejected("the local provider needs a `subject` (any name you like)")
        return ProviderIdentity(self.name, subject, (credentials.nickname or subject).strip()[:100])
