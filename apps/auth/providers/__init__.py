"""The sign-in providers, built from settings. A provider without its client id and secret is not offered."""

from __future__ import annotations

from enum import StrEnum

from apps.auth.exceptions import ProviderNotAvailable
from apps.auth.providers.base import Provider
from apps.auth.providers.local import LocalProvider
from apps.auth.providers.naver import NaverProvider
from apps.auth.providers.oidc import OidcProvider
from apps.core.settings import Settings


class ProviderName(StrEnum):
    GOOGLE = "google"
    KAKAO = "kakao"
    NAVER = "naver"
    LOCAL = "local"


def available_providers(settings: Settings) -> list[ProviderName]:
    return [name for name in ProviderName if _build(name, settings) is not None]


def get_provider(name: ProviderName, settings: Settings) -> Provider:
    provider = _build(name, settings)
    if provider is None:
        raise ProviderNotAvailable(f"sign-in with {name.value} is not configured on this server")
    return provider


def _build(name: ProviderName, settings: Settings) -> Provider | None:
    if name is ProviderName.LOCAL:
        return LocalProvider() if settings.local_sign_in_enabled else None
    if name is ProviderName.GOOGLE and settings.google_client_id and settings.google_client_secret:
        return OidcProvider(
            "google",
            settings.google_client_id,
            settings.google_client_secret.get_secret_value(),
            settings.google_discovery_url,
            "openid profile",
            settings.google_native_client_ids,
        )
    if name is ProviderName.KAKAO and settings.kakao_client_id and settings.kakao_client_secret:
        return OidcProvider(
            "kakao",
            settings.kakao_client_id,
            settings.kakao_client_secret.get_secret_value(),
            settings.kakao_discovery_url,
            "openid profile_nickname",
            settings.kakao_native_app_keys,
        )
    if name is ProviderName.NAVER and settings.naver_client_id and settings.naver_client_secret:
        return NaverProvider(
            settings.naver_client_id,
            settings.naver_client_secret.get_secret_value(),
            settings.naver_authorize_url,
            settings.naver_token_url,
            settings.naver_userinfo_url,
        )
    return None
