"""Process settings, read once from the environment (prefix ``ECO2_``) and an optional ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Signs tokens in local runs only; deployed environments refuse to start with it.
LOCAL_TOKEN_SECRET = "local-development-secret-change-me-32b"  # noqa: S105


class Settings(BaseSettings):
    # Errors never print the values they reject: a misspelt setting must not echo a secret into a log.
    model_config = SettingsConfigDict(
        env_prefix="ECO2_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

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
    # Calibrated probability below which the embedded classifier says "uncertain"; 0.76 is the value its
    # training run chose (95% right on the answered calibration photos, docs/classifier.md).
    classifier_threshold: float = Field(default=0.76, ge=0.0, le=1.0)
    # onnxruntime threads per worker process: 1 when a worker runs one analysis per core.
    classifier_threads: int = Field(default=1, ge=1, le=16)

    # OpenAI (used only when analyzer == "openai" and a key is configured).
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o"
    openai_timeout_seconds: float = 20.0
    openai_requests_per_minute: int = 60

    # Jobs stuck in `queued` longer than this are re-published by the sweeper.
    queued_job_timeout_seconds: int = 120

    # Hardening (docs/hardening.md): bounded requests, browser access, abuse controls, dependency failures.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Web origins allowed to call the API from a browser; the bucket's CORS uses the same list.
    cors_origins: list[str] = ["http://localhost:5173", "http://127.0.0.1:8000"]
    # /docs and /openapi.json: None means on in local and test, off in dev and prod.
    docs_enabled: bool | None = None
    hsts_max_age_seconds: int = 31_536_000
    # Send HSTS on every response, not only on requests that arrived over TLS (X-Forwarded-Proto: https).
    hsts_always: bool = False
    rate_limit_enabled: bool = True
    # Redis key prefix of the limits (isolates test runs sharing one Redis).
    rate_limit_namespace: str = "eco2"
    # Sustained requests per minute (bursts of a third of it) per user; per client IP it is ip_factor times
    # as many, since many users can share one address (carrier NAT).
    upload_rate_per_minute: int = Field(default=30, ge=1)
    analysis_rate_per_minute: int = Field(default=30, ge=1)
    search_rate_per_minute: int = Field(default=120, ge=1)
    rate_limit_ip_factor: int = Field(default=10, ge=1)
    # Reserved but unused, unexpired uploads a user may hold; expired ones are deleted every interval.
    pending_uploads_max: int = Field(default=20, ge=1)
    upload_cleanup_interval_seconds: int = Field(default=600, ge=10)
    # Decoded-pixel memory all concurrent image verifications of one process may hold, and the longest a
    # verification waits for its share before the API answers 503.
    image_decode_memory_bytes: int = Field(default=256 * 1024 * 1024, ge=16 * 1024 * 1024)
    image_decode_wait_seconds: float = Field(default=10.0, gt=0)
    # Fail fast when a dependency is slow or unreachable, then skip it for a while (circuit breaker).
    redis_timeout_seconds: float = Field(default=0.04, gt=0)
    broker_timeout_seconds: float = Field(default=0.25, gt=0)
    database_connect_timeout_seconds: int = Field(default=3, ge=1)
    dependency_breaker_reset_seconds: float = Field(default=5.0, gt=0)

    @property
    def docs_on(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else self.environment in {"local", "test"}

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
