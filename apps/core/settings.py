"""Process settings, read once from the environment (prefix ``ECO2_``) and an optional ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Signs access tokens in local and test runs only; deployed environments refuse to start with it.
LOCAL_TOKEN_SIGNING_KEY = (
    "-----BEGIN PRIVATE KEY-----\n"  # noqa: S105
    "MC4CAQAwBQYDK2VwBCIEII84I+t5JAMNz7qij+Jq64ivI2IDzilaZasIRbNZMFZW\n"
    "-----END PRIVATE KEY-----\n"
)


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

    # Identity (docs/identity.md). Our access tokens: JWTs signed with an Ed25519 (EdDSA) or RSA (RS256)
    # private key in PEM; the key id defaults to the key's RFC 7638 thumbprint. Services that only verify may
    # get the public half instead (`token_public_key`). During a rotation the previous key's public half (PEM)
    # is still accepted and published at the JWKS endpoint. Local and test runs default to a built-in key.
    token_signing_key: SecretStr | None = None
    token_public_key: str | None = None
    token_signing_key_id: str | None = None
    token_previous_public_key: str | None = None
    token_previous_key_id: str | None = None
    token_issuer: str = "eco2"  # noqa: S105 (the `iss` claim)
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=3600)
    # Browser sessions: HttpOnly cookies (+ a readable CSRF cookie for the double-submit check).
    auth_cookie_secure: bool = True
    auth_cookie_samesite: Literal["lax", "strict", "none"] = "lax"
    auth_cookie_domain: str | None = None
    # Public base URL of the API, for the providers' redirect (callback) URLs.
    auth_public_base_url: str = "http://127.0.0.1:8000"
    # Sign-in, callback and token endpoints: per client IP, GCRA in Redis.
    auth_rate_limit_per_minute: int = Field(default=30, ge=1)
    auth_rate_limit_burst: int = Field(default=10, ge=1)
    # The local sign-in provider (no provider keys needed): on in local and test unless disabled; refused
    # in dev and prod.
    local_sign_in: bool | None = None
    # Social providers: a provider is offered when its client id and secret are set.
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    # Audiences of id_tokens minted by the apps' SDKs (JSON lists): Google's iOS/Android client ids, Kakao's
    # native app key. The web client id is always accepted.
    google_native_client_ids: list[str] = Field(default_factory=list)
    kakao_native_app_keys: list[str] = Field(default_factory=list)
    kakao_client_id: str | None = None
    kakao_client_secret: SecretStr | None = None
    kakao_discovery_url: str = "https://kauth.kakao.com/.well-known/openid-configuration"
    naver_client_id: str | None = None
    naver_client_secret: SecretStr | None = None
    naver_authorize_url: str = "https://nid.naver.com/oauth2.0/authorize"
    naver_token_url: str = "https://nid.naver.com/oauth2.0/token"  # noqa: S105
    naver_userinfo_url: str = "https://openapi.naver.com/v1/nid/me"

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

    @property
    def local_sign_in_enabled(self) -> bool:
        return self.environment in {"local", "test"} if self.local_sign_in is None else self.local_sign_in

    @property
    def signing_key_pem(self) -> str | None:
        """The private key this process signs with; None for a verify-only service (`token_public_key`)."""
        if self.token_signing_key is not None:
            return self.token_signing_key.get_secret_value()
        return None if self.token_public_key else LOCAL_TOKEN_SIGNING_KEY

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
    # The most decoded-pixel memory one upload may need, estimated from its header (the API refuses more).
    image_decode_memory_bytes: int = Field(default=256 * 1024 * 1024, ge=16 * 1024 * 1024)
    # Fail fast when a dependency is slow or unreachable, then skip it for a while (circuit breaker).
    redis_timeout_seconds: float = Field(default=0.1, gt=0)
    broker_timeout_seconds: float = Field(default=0.25, gt=0)
    database_connect_timeout_seconds: int = Field(default=3, ge=1)
    # A hot-path read on the event loop (a poll's SELECT) waits at most this long for PostgreSQL's answer.
    database_query_timeout_seconds: float = Field(default=3.0, gt=0)
    dependency_breaker_reset_seconds: float = Field(default=5.0, gt=0)

    @property
    def docs_on(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else self.environment in {"local", "test"}

    # Observability (docs/observability.md): Prometheus metrics and structured logs.
    metrics_enabled: bool = True  # false: no HTTP metrics middleware, no /metrics (the benchmark's baseline)
    worker_metrics_host: str = "0.0.0.0"  # noqa: S104 (Prometheus scrapes the pod's IP)
    worker_metrics_port: int = Field(default=9100, ge=0, le=65535)  # 0: no worker metrics server
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _deployed_environments_need_real_identity_settings(self) -> Settings:
        if self.token_signing_key is not None and self.token_public_key:
            raise ValueError("set ECO2_TOKEN_SIGNING_KEY or ECO2_TOKEN_PUBLIC_KEY, not both")
        if self.signing_key_pem is not None:
            check_signing_key(self.signing_key_pem)
        if self.environment in {"dev", "prod"}:
            if self.token_signing_key is None and not self.token_public_key:
                raise ValueError(
                    "ECO2_TOKEN_SIGNING_KEY (the deployment's own private key, PEM) or, for a service that "
                    "only verifies tokens, ECO2_TOKEN_PUBLIC_KEY must be set in the "
                    f"{self.environment} environment"
                )
            if self.signing_key_pem == LOCAL_TOKEN_SIGNING_KEY:
                raise ValueError(
                    f"ECO2_TOKEN_SIGNING_KEY must be set to the deployment's own private key (PEM) in the "
                    f"{self.environment} environment, not the local one"
                )
            if self.local_sign_in:
                raise ValueError(f"ECO2_LOCAL_SIGN_IN is refused in the {self.environment} environment")
        return self

    @field_validator(
        "s3_endpoint_url",
        "s3_access_key_id",
        "s3_secret_access_key",
        "openai_api_key",
        "token_signing_key",
        "token_public_key",
        "token_signing_key_id",
        "token_previous_public_key",
        "token_previous_key_id",
        "auth_cookie_domain",
        "google_client_id",
        "google_client_secret",
        "kakao_client_id",
        "kakao_client_secret",
        "naver_client_id",
        "naver_client_secret",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value


def check_signing_key(pem: str) -> None:
    """A PEM private key we can sign with: Ed25519, or RSA of at least 2048 bits."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as error:
        raise ValueError(f"ECO2_TOKEN_SIGNING_KEY is not an unencrypted PEM private key: {error}") from None
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < 2048:
        raise ValueError("ECO2_TOKEN_SIGNING_KEY: an RSA key must have at least 2048 bits")
    if not isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        raise ValueError("ECO2_TOKEN_SIGNING_KEY must be an Ed25519 or RSA private key")


@lru_cache
def get_settings() -> Settings:
    return Settings()
