"""Settings of the locations service (prefix ``ECO2_``), separate from the process-wide core settings."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class LocationsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ECO2_", env_file=".env", extra="ignore")

    # Kakao Local REST key; without it the service answers from the embedded KECO data only.
    kakao_rest_api_key: SecretStr | None = None
    kakao_local_base_url: str = "https://dapi.kakao.com"
    kakao_timeout_seconds: float = Field(default=3.0, gt=0.0, le=30.0)


@lru_cache
def get_locations_settings() -> LocationsSettings:
    return LocationsSettings()


async def request_locations_settings() -> LocationsSettings:
    """The settings as an `async` dependency (a sync one runs in a worker thread on every request)."""
    return get_locations_settings()
