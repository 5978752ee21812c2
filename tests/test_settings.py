"""Settings fail loudly, naming what is wrong, instead of running a deployment with local defaults."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from apps.core.settings import LOCAL_TOKEN_SECRET, Settings


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_deployed_environments_refuse_the_local_token_secret(environment: str) -> None:
    with pytest.raises(ValidationError, match="ECO2_TOKEN_SECRET must be set"):
        Settings(_env_file=None, environment=environment, token_secret=LOCAL_TOKEN_SECRET)
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(_env_file=None, environment=environment, token_secret="short")
    secret = "x" * 40
    deployed = Settings(_env_file=None, environment=environment, token_secret=secret)
    assert deployed.token_secret.get_secret_value() == secret


def test_local_runs_work_with_the_defaults() -> None:
    assert Settings(_env_file=None, environment="local").environment == "local"


def test_blank_optional_values_mean_unset() -> None:
    settings = Settings(_env_file=None, s3_endpoint_url="", openai_api_key="")
    assert settings.s3_endpoint_url is None
    assert settings.openai_api_key is None


def test_an_out_of_range_threshold_names_the_setting() -> None:
    with pytest.raises(ValidationError, match="classifier_threshold"):
        Settings(_env_file=None, classifier_threshold=1.5)
