"""Settings fail loudly, naming what is wrong, instead of running a deployment with local defaults."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from pydantic import ValidationError

from apps.core.settings import LOCAL_TOKEN_SIGNING_KEY, Settings
from tests.support.identity import fresh_signing_key_pem


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_deployed_environments_refuse_the_local_token_signing_key(environment: str) -> None:
    with pytest.raises(ValidationError, match="ECO2_TOKEN_SIGNING_KEY must be set"):
        Settings(_env_file=None, environment=environment, token_signing_key=LOCAL_TOKEN_SIGNING_KEY)
    key = fresh_signing_key_pem()
    deployed = Settings(_env_file=None, environment=environment, token_signing_key=key)
    assert deployed.signing_key_pem == key


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_deployed_services_need_a_signing_key_or_a_public_key(environment: str) -> None:
    with pytest.raises(
        ValidationError, match=r"or, for a service that only verifies tokens, ECO2_TOKEN_PUBLIC"
    ):
        Settings(_env_file=None, environment=environment)
    public = (
        serialization.load_pem_private_key(fresh_signing_key_pem().encode(), None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    verify_only = Settings(_env_file=None, environment=environment, token_public_key=public)
    assert verify_only.signing_key_pem is None
    with pytest.raises(ValidationError, match="not both"):
        Settings(
            _env_file=None,
            environment=environment,
            token_public_key=public,
            token_signing_key=fresh_signing_key_pem(),
        )


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_the_local_sign_in_provider_is_refused_outside_local_and_test(environment: str) -> None:
    deployed = Settings(_env_file=None, environment=environment, token_signing_key=fresh_signing_key_pem())
    assert not deployed.local_sign_in_enabled
    with pytest.raises(ValidationError, match="ECO2_LOCAL_SIGN_IN is refused"):
        Settings(
            _env_file=None,
            environment=environment,
            token_signing_key=fresh_signing_key_pem(),
            local_sign_in=True,
        )


def test_the_local_sign_in_provider_is_on_in_local_runs_unless_disabled() -> None:
    assert Settings(_env_file=None, environment="local").local_sign_in_enabled
    assert Settings(_env_file=None, environment="test").local_sign_in_enabled
    assert not Settings(_env_file=None, environment="local", local_sign_in=False).local_sign_in_enabled


def test_local_runs_work_with_the_defaults() -> None:
    assert Settings(_env_file=None, environment="local").environment == "local"


def test_blank_optional_values_mean_unset() -> None:
    settings = Settings(_env_file=None, s3_endpoint_url="", openai_api_key="")
    assert settings.s3_endpoint_url is None
    assert settings.openai_api_key is None


def test_an_out_of_range_threshold_names_the_setting() -> None:
    with pytest.raises(ValidationError, match="classifier_threshold"):
        Settings(_env_file=None, classifier_threshold=1.5)
