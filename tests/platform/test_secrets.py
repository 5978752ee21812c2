"""No secret in a ConfigMap, an env ``value`` or a stack file: generated credentials and third-party keys
reach the pods only as Secret keys read by ``secretKeyRef``; an unset optional key leaves its variable out."""

from __future__ import annotations

import asyncio

import pulumi
import pytest

from eco2_platform.workloads.app_config import (
    SECRETS_NAME,
    TOKEN_SIGNING_KEY_ENV,
    AppConfigArgs,
    settings_data,
)
from infra.config import APP_SECRET_KEYS, ConfigError, load_app_secrets
from tests.support.kubernetes import containers, env_of, named, objects_of_kind, workloads
from tools.plan.harness import STACKS, execute, run_program
from tools.plan.stack_runner import REPO_ROOT

SENSITIVE = ("PASSWORD", "PASS", "SECRET", "KEY", "URL", "AUTH", "TOKEN")
"""Variable-name parts that must come from a Secret (URLs embed passwords)."""
PLAIN_URL_SETTINGS = {
    "ECO2_S3_ENDPOINT_URL",
    "ECO2_OPENAI_BASE_URL",
    "ECO2_KAKAO_LOCAL_BASE_URL",
    "ECO2_AUTH_PUBLIC_BASE_URL",
}


def secret_values(stack: str) -> set[str]:
    """Every value the program put into a Secret."""
    values: set[str] = set()
    for secret in objects_of_kind(run_program(stack), "Secret"):
        assert "stringData" in secret.secret_inputs, secret.urn
        values |= {value for value in secret.inputs["stringData"].values() if len(value) >= 16}
    return values


def contains_secret(text: str, secrets: set[str]) -> bool:
    return any(secret in text or (text in secret and len(text) >= 16) for secret in secrets)


@pytest.mark.parametrize("stack", STACKS)
def test_no_config_map_holds_a_secret(stack):
    secrets = secret_values(stack)
    assert len(secrets) >= 8
    for config_map in objects_of_kind(run_program(stack), "ConfigMap"):
        for key, value in config_map.inputs["data"].items():
            assert not contains_secret(value, secrets), key
            assert not any(part in key for part in SENSITIVE) or key in PLAIN_URL_SETTINGS, key


@pytest.mark.parametrize("stack", STACKS)
def test_no_container_gets_a_secret_as_a_plain_value(stack):
    secrets = secret_values(stack)
    for workload in workloads(run_program(stack)):
        for container in containers(workload):
            for name, variable in env_of(container).items():
                if "value" in variable:
                    assert not contains_secret(variable["value"], secrets), f"{workload.urn} {name}"
                    assert not any(part in name for part in SENSITIVE), f"{workload.urn} {name}"
                else:
                    assert "secretKeyRef" in variable["valueFrom"], f"{workload.urn} {name}"
            for arg in [*container.get("command", []), *container.get("args", [])]:
                assert not contains_secret(arg, secrets), workload.urn


@pytest.mark.parametrize("stack", STACKS)
def test_the_app_secret_carries_the_urls_and_token_keys_and_no_unset_key(stack):
    secret = named(run_program(stack), "Secret", SECRETS_NAME)
    data = secret.inputs["stringData"]
    assert set(data) == {
        "ECO2_DATABASE_URL",
        "ECO2_REDIS_URL",
        "ECO2_BROKER_URL",
        TOKEN_SIGNING_KEY_ENV,
    }
    assert data[TOKEN_SIGNING_KEY_ENV].startswith("-----BEGIN PRIVATE KEY-----")
    (key,) = [r for r in run_program(stack) if r.type_ == "tls:index/privateKey:PrivateKey"]
    assert key.inputs["algorithm"] == "ED25519"
    api = env_of(next(containers(named(run_program(stack), "Deployment", "waste"))))
    for variable in data:
        assert api[variable]["valueFrom"]["secretKeyRef"] == {"name": SECRETS_NAME, "key": variable}


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_hold_no_app_secret(stack):
    text = (REPO_ROOT / f"Pulumi.{stack}.yaml").read_text()
    for key in APP_SECRET_KEYS:
        assert f"eco2:{key}" not in text


def test_settings_choose_openai_only_with_its_key():
    def args(app_secrets: dict[str, pulumi.Output[str]]) -> AppConfigArgs:
        return AppConfigArgs(
            provider=None,  # type: ignore[arg-type]
            namespace=None,  # type: ignore[arg-type]
            environment="prod",
            domain="eco2.example.com",
            bucket_name="bucket",
            region="ap-northeast-2",
            app_origins=("https://eco2.example.com",),
            data_passwords={},
            app_secrets=app_secrets,
            sign_in_client_ids={},
        )

    assert settings_data(args({}), "bucket")["ECO2_ANALYZER"] == "embedded"
    # An Output needs an event loop; an earlier test's asyncio.run may have closed the thread's loop.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        with_key = settings_data(args({"openaiApiKey": pulumi.Output.secret("sk-test")}), "bucket")
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    assert with_key["ECO2_ANALYZER"] == "openai"
    assert with_key["ECO2_CORS_ORIGINS"] == '["https://eco2.example.com"]'
    assert with_key["ECO2_ENVIRONMENT"] == "prod"
    assert with_key["ECO2_AUTH_PUBLIC_BASE_URL"] == "https://eco2.example.com"


@pytest.fixture
def restore_config():
    yield
    pulumi.runtime.set_all_config({}, secret_keys=[])


def test_unset_app_secrets_are_left_out(restore_config):
    pulumi.runtime.set_all_config({}, secret_keys=[])
    assert load_app_secrets() == {}


def test_an_app_secret_in_plain_text_is_refused(restore_config):
    pulumi.runtime.set_all_config({"eco2:openaiApiKey": "sk-plain"}, secret_keys=[])
    with pytest.raises(ConfigError, match=r"eco2:openaiApiKey: is stored in plain text"):
        load_app_secrets()


@pulumi.runtime.test
def test_a_secret_app_key_is_read_as_a_secret_output(restore_config):
    pulumi.runtime.set_all_config({"eco2:kakaoRestApiKey": "kakao-key"}, secret_keys=["eco2:kakaoRestApiKey"])
    secrets = load_app_secrets()
    assert list(secrets) == ["kakaoRestApiKey"]

    def check(values: list[object]) -> None:
        assert values == ["kakao-key", True]

    return pulumi.Output.all(secrets["kakaoRestApiKey"], pulumi.Output.from_input(True)).apply(check)


def test_configured_sign_in_providers_reach_the_settings_and_secrets_only_by_reference():
    run = execute("dev", overrides={"eco2:signInClientIds": '{"google": "web.apps.googleusercontent.com"}'})
    settings = named(run.resources, "ConfigMap", "eco2-settings").inputs["data"]
    assert settings["ECO2_GOOGLE_CLIENT_ID"] == "web.apps.googleusercontent.com"
    assert "ECO2_KAKAO_CLIENT_ID" not in settings
    assert "ECO2_GOOGLE_CLIENT_SECRET" not in settings  # a secret only ever comes from --secret config
    assert APP_SECRET_KEYS["googleClientSecret"] == "ECO2_GOOGLE_CLIENT_SECRET"
