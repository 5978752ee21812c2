"""Secrets are redacted from every log line, tracebacks included."""

from __future__ import annotations

import logging

import pytest

from apps.core.redaction import install_log_redaction, redact
from apps.core.settings import Settings


def test_url_passwords_and_known_secrets_are_masked() -> None:
    text = (
        "cannot reach amqp://eco2:hunter2-pw@mq:5672// nor postgresql+psycopg://app:pg-pw@db/eco2"
        " with k3y-S3CRET"
    )
    redacted = redact(text, ["k3y-S3CRET"])
    assert "hunter2-pw" not in redacted and "pg-pw" not in redacted and "k3y-S3CRET" not in redacted
    assert "amqp://eco2:***@mq:5672//" in redacted


def test_log_records_are_redacted_when_created(caplog: pytest.LogCaptureFixture) -> None:
    secret = "s3-secret-do-not-log-1234"
    install_log_redaction(Settings(_env_file=None, s3_secret_access_key=secret))
    logger = logging.getLogger("tests.redaction")
    with caplog.at_level(logging.INFO, logger="tests.redaction"):
        logger.info("connecting with %s to %s", secret, "redis://:redis-pw@cache:6379/0")
        try:
            raise RuntimeError(f"failed with {secret}")
        except RuntimeError:
            logger.exception("it broke")
    text = caplog.text + "".join(record.exc_text or "" for record in caplog.records)
    assert secret not in text and "redis-pw" not in text
    assert "connecting with *** to redis://:***@cache:6379/0" in caplog.text
