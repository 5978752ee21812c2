"""Process settings, read once from the environment (prefix ``ECO2_``) and an optional ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Signs tokens in local runs only; deployed environments refuse to start with it.
LOCAL_TOKEN_SECRET = "local-development-secret-change-me-32b"  # noqa: S105


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ECO2_", env_file=".env", extra="ignore")

    environment: Literal["local", "test", "dev", "prod"] = "local"

    # PostgreSQL is the source of truth for uploads and analysis jobs.
    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/eco2"
    redis_url: str = "redis://127.0.0.1:6379/0"
    broker_url: str = "amqp://guest:guest@127.0.0.1:5672//"

    # Signed bearer tokens (HS256) until the identity service issues its own.
    token_secret: SecretStr = SecretStr(LOCAL_TOKEN_SECRET)
    token_ttl_seconds: int = 3600

    # S3: in AWS the regional endpoint and the node's instance role (all three unset); locally the embedded
    # server that `make up` starts, with static keys.
    s3_bucket: str = "eco2-images-local"
    s3_region: str = "ap-northeast-2"
    s3_endpoint_url: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    upload_url_ttl_seconds: int = 300
    upload_max_bytes: int = 10 * 1024 * 1024
    image_max_pixels: int = 40_000_000

    # Analysis
    analyzer: Literal["embedded", "openai"] = "embedded"
    # Calibrated probability below which the hint and OpenAI readings are "uncertain". The embedded
    # classifier uses the threshold its head was calibrated for (docs/classifier.md).
    classifier_threshold: float = Field(default=0.76, ge=0.0, le=1.0)
    # onnxruntime threads per worker process: 1 when a worker runs one analysis per core.
    classifier_threads: int = Field(default=1, ge=1, le=16)
    # Embedded classifier head artifact: ``head.npz`` (trained on TrashNet) or a retrained
    # ``head-<version>.npz`` listed in the classifier manifest (``ecoeco classifier retrain``).
    classifier_head: str = Field(default="head.npz", pattern=r"^head(-[0-9a-f]{12})?\.npz$")

    # OpenAI (used only when analyzer == "openai" and a key is configured).
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o"
    openai_timeout_seconds: float = 20.0
    openai_requests_per_minute: int = 60

    # Jobs stuck in `queued` longer than this are re-published by the sweeper.
    queued_job_timeout_seconds: int = 120

    @model_validator(mode="after")
    def _deployed_environments_need_a_real_token_secret(self) -> Settings:
        if self.environment in {"dev", "prod"}:
            secret = self.token_secret.get_secret_value()
            if secret == LOCAL_TOKEN_SECRET or len(secret) < 32:
                raise ValueError(
                    "ECO2_TOKEN_SECRET must be set to a random value of at least 32 characters "
                    f"in the {self.environment} environment"
                )
        return self

    @field_validator(
        "s3_endpoint_url", "s3_access_key_id", "s3_secret_access_key", "openai_api_key", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value


@lru_cache
def get_settings() -> Settings:
    return Settings()
