"""Secrets never reach a log line: every record's message and traceback is redacted when it is created.

Redacted: every configured secret value (each `SecretStr` setting: signing key, S3 secret key, API keys)
and any password in a URL (`scheme://user:password@host`), so a connection error that quotes its URL is
safe to log.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable
from typing import Any

from pydantic import SecretStr

from apps.core.settings import Settings

MASK = "***"
_URL_PASSWORD = re.compile(r"(?P<prefix>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@\s/]+)@")
_MIN_SECRET_CHARS = 6  # shorter values would mask ordinary words


def secret_values(settings: Settings) -> list[str]:
    secrets = [getattr(settings, name) for name in type(settings).model_fields]
    values = [secret.get_secret_value() for secret in secrets if isinstance(secret, SecretStr)]
    return sorted({value for value in values if len(value) >= _MIN_SECRET_CHARS}, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    text = _URL_PASSWORD.sub(lambda match: f"{match['prefix']}{MASK}@", text)
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


_installed: list[str] | None = None


def install_log_redaction(settings: Settings) -> None:
    """Wrap the log record factory once per process (later calls update the secrets)."""
    global _installed
    if _installed is not None:
        _installed[:] = secret_values(settings)
        return
    _installed = secrets = secret_values(settings)
    make_record = logging.getLogRecordFactory()

    def redacting_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string: let the handler report it as usual
            return record
        record.msg, record.args = redact(message, secrets), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip(), secrets)
        return record

    logging.setLogRecordFactory(redacting_record)
