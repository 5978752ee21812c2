"""JSON log lines: one object per line, bound context, and nothing secret in any field."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from apps.core.observability.logging import (
    JsonFormatter,
    Redactor,
    TextFormatter,
    bind,
    bind_job,
    configure_logging,
)
from apps.core.redaction import secret_values
from apps.core.settings import Settings
from tests.support.identity import fresh_signing_key_pem

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw"
PRESIGNED = (
    "https://eco2.s3.ap-northeast-2.amazonaws.com/scans/u/p.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAEXAMPLE%2F20261201%2Fap-northeast-2%2Fs3%2Faws4_request&X-Amz-Date=20261201T000000Z"
    "&X-Amz-Expires=120&X-Amz-SignedHeaders=host&X-Amz-Signature=0123456789abcdef0123456789abcdef"
)
PHOTO = bytes(range(256)) * 4


Capture = tuple[logging.Logger, io.StringIO]


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(Redactor(["the-configured-secret-value"])))
    logger = logging.getLogger("tests.observability.capture")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"Authorization: Bearer {JWT}", JWT),
        (f"token {JWT} expired", "c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw"),
        (f"fetching {PRESIGNED}", "0123456789abcdef0123456789abcdef"),
        (f"fetching {PRESIGNED}", "AKIAEXAMPLE"),
        ("{'policy': 'eyJleHBpcmF0aW9uIjoi', 'x-amz-signature': 'deadbeefcafe'}", "deadbeefcafe"),
        ('{"x-amz-credential": "AKIAEXAMPLE/20261201"}', "AKIAEXAMPLE"),
        ("callback /auth/kakao/callback?code=oauth-code-1234&state=xyz987", "oauth-code-1234"),
        ("amqp://guest:hunter2-password@rabbitmq:5672//", "hunter2-password"),
        ("openai key sk-proj-abcdefghijklmnop1234 rejected", "sk-proj-abcdefghijklmnop1234"),
        ("Authorization: KakaoAK 0123456789abcdef", "0123456789abcdef"),
        ("retried with bearer abc123def456ghi", "abc123def456ghi"),
        ("the secret is the-configured-secret-value", "the-configured-secret-value"),
        (f"image_url data:image/jpeg;base64,{base64.b64encode(PHOTO).decode()}", "AAECAwQFBgcICQ"),
        (f"read {PHOTO[:40]!r}", "\\x00\\x01\\x02"),
        (f"raw {base64.b64encode(PHOTO).decode()}", "AAECAwQFBgcICQ"),
    ],
)
def test_redaction_removes_the_secret(text: str, secret: str) -> None:
    redacted = Redactor(["the-configured-secret-value"])(text)
    assert secret not in redacted
    assert "redacted" in redacted


def test_redaction_keeps_ordinary_text() -> None:
    text = "job 2d923b67-2005-4c76-ad0c-413ae9f32f20 answered by embedded in 12.5 ms (status=succeeded)"
    assert Redactor()(text) == text


def test_a_line_is_one_json_object_with_the_bound_context(capture: Capture) -> None:
    logger, stream = capture
    with bind(request_id="req-12345678", task=None):
        bind_job("job-1")
        logger.info("hello %s", "world", extra={"route": "/api/v1/x/{id}", "status": 200})
    logger.info("outside")
    inside, outside = lines(stream)
    assert inside["event"] == "hello world"
    assert inside["level"] == "info"
    assert inside["request_id"] == "req-12345678"
    assert inside["job_id"] == "job-1"
    assert "task" not in inside, "fields without a value are not bound"
    assert inside["route"] == "/api/v1/x/{id}"
    assert inside["status"] == 200
    assert "request_id" not in outside and "job_id" not in outside, "the context ends with the block"


def test_extra_fields_and_tracebacks_are_redacted(capture: Capture) -> None:
    logger, stream = capture
    try:
        raise RuntimeError(f"upstream refused Bearer {JWT}")
    except RuntimeError:
        logger.exception(
            "failed", extra={"url": PRESIGNED, "photo": PHOTO, "nested": {"auth": f"Bearer {JWT}"}}
        )
    text = stream.getvalue()
    (line,) = lines(stream)
    assert JWT not in text
    assert "0123456789abcdef0123456789abcdef" not in text
    assert line["photo"] == f"[{len(PHOTO)} bytes]"
    assert "RuntimeError" in str(line["exc"])


def test_the_text_format_redacts_too() -> None:
    record = logging.LogRecord("x", logging.INFO, "", 0, "Bearer %s", (JWT,), None)
    assert JWT not in TextFormatter(Redactor()).format(record)


def test_configured_secrets_are_the_settings_secrets() -> None:
    signing_key = fresh_signing_key_pem()
    settings = Settings(
        _env_file=None,
        token_signing_key=SecretStr(signing_key),
        s3_secret_access_key=SecretStr("s3-secret"),
        openai_api_key=None,
    )
    assert {signing_key, "s3-secret"} <= set(secret_values(settings))


def test_configuring_twice_installs_one_handler() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    try:
        configure_logging(Settings())
        configure_logging(Settings(log_format="text"))
        added = [handler for handler in root.handlers if handler not in before]
        assert len(added) == 1
        assert isinstance(added[0].formatter, TextFormatter)
        assert logging.getLogger("uvicorn.access").level == logging.WARNING
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
        root.setLevel(level)
