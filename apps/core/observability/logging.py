"""Structured logs: one JSON object per line, with the request id and job id bound to whatever runs for them,
and secrets scrubbed from every field before the line is written.

Fields: ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``event`` (the message), the bound context
(``request_id``, ``job_id``, ``task_id``, ``task``), any ``extra=`` fields, and ``exc`` (the traceback).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

from apps.core.redaction import secret_values
from apps.core.settings import Settings

_context: ContextVar[Mapping[str, str]] = ContextVar("eco2_log_context", default={})  # noqa: B039


def bound() -> Mapping[str, str]:
    """The fields bound to the current request or task."""
    return _context.get()


def current_request_id() -> str | None:
    return _context.get().get("request_id")


def push(**fields: str | None) -> Token[Mapping[str, str]]:
    """Bind fields (those with a value) until `pop` is given the returned token."""
    return _context.set({**_context.get(), **{key: value for key, value in fields.items() if value}})


def pop(token: Token[Mapping[str, str]]) -> None:
    _context.reset(token)


@contextlib.contextmanager
def bind(**fields: str | None) -> Iterator[None]:
    """Bind fields to every log line emitted inside the block (in this thread or task, and in work it starts
    with a copied context, as FastAPI's threadpool does)."""
    token = push(**fields)
    try:
        yield
    finally:
        pop(token)


def bind_job(job_id: object) -> None:
    """Add the job id to the current context until the request or task ends."""
    _context.set({**_context.get(), "job_id": str(job_id)})


REDACTED = "[redacted]"
_SENSITIVE_PARAMETERS = (
    "x-amz-signature|x-amz-credential|x-amz-security-token|signature|awsaccesskeyid|policy|"
    "access_token|refresh_token|id_token|client_secret|code|state|token|password|api_key"
)
_SHORTEST_BASE64_RUN = 120  # characters: a shorter run is not treated as encoded photo bytes
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Photo bytes: data URLs, bytes reprs, long base64 runs.
    (re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+"), "data:[redacted]"),
    (re.compile(r"""b(['"])(?=[^'"]*\\x[0-9a-fA-F]{2})(?:(?!\1)[^\\]|\\.){8,}\1"""), "[redacted bytes]"),
    (re.compile(rf"[A-Za-z0-9+/]{{{_SHORTEST_BASE64_RUN},}}={{0,2}}"), "[redacted base64]"),
    # Credentials.
    (re.compile(r"(?i)\b(bearer|basic|kakaoak)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {REDACTED}"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[redacted jwt]"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), "[redacted key]"),
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/\s@]+:)[^@\s/]+@"), rf"\1{REDACTED}@"),
    # Presigned URLs and form fields, OAuth codes: query parameters and key/value pairs.
    (re.compile(rf"(?i)([?&](?:{_SENSITIVE_PARAMETERS})=)[^&\s\"']+"), rf"\1{REDACTED}"),
    (
        re.compile(rf"""(?i)(['"](?:{_SENSITIVE_PARAMETERS})['"]\s*:\s*['"])[^'"]+"""),
        rf"\1{REDACTED}",
    ),
)


# Every pattern above needs one of these (or a base64 run): text without any, shorter than such a run, has
# nothing to redact but configured secrets, and skips the patterns (most log lines: the request line).
_MAY_NEED_PATTERNS = re.compile(r"[:=\\]|eyJ|sk-|(?i:bearer|basic|kakaoak)")


class Redactor:
    """Removes tokens, keys, signatures, presigned URL credentials and photo bytes from text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Exact configured secret values (long enough not to match ordinary words), longest first.
        self._secrets = sorted({secret for secret in secrets if len(secret) >= 8}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        if len(text) < _SHORTEST_BASE64_RUN and _MAY_NEED_PATTERNS.search(text) is None:
            return text
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def value(self, value: Any) -> Any:
        """Redact a log field: strings and bytes (never written as bytes), recursively in containers."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, bytes | bytearray | memoryview):
            return f"[{len(value)} bytes]"
        if isinstance(value, Mapping):
            return {str(key): self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple | set):
            return [self.value(item) for item in value]
        if value is None or isinstance(value, bool | int | float):
            return value
        return self(str(value))


# Attributes every LogRecord has; anything else came in through `extra=` and becomes a field.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redact = redactor

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": self._redact(record.getMessage()),
            **bound(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                event[key] = self._redact.value(value)
        if record.exc_info:
            event["exc"] = self._redact(self.formatException(record.exc_info))
        if record.stack_info:
            event["stack"] = self._redact(self.formatStack(record.stack_info))
        return json.dumps(event, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """For a terminal: one readable line, the same redaction, the bound fields at the end."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._redact = redactor

    def format(self, record: logging.LogRecord) -> str:
        context = " ".join(f"{key}={value}" for key, value in bound().items())
        return self._redact(super().format(record) + (f" [{context}]" if context else ""))


class _Eco2Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module installed, so configuring twice replaces it instead of adding one."""


def configure_logging(settings: Settings) -> None:
    """Send every logger (uvicorn's and Celery's included) to one stderr handler in the configured format.
    Idempotent. uvicorn's access log is silenced: the request log line of the HTTP middleware replaces it
    (route template, duration, request id, and no query string)."""
    redactor = Redactor(secret_values(settings))
    formatter: logging.Formatter = (
        JsonFormatter(redactor) if settings.log_format == "json" else TextFormatter(redactor)
    )
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Eco2Handler)]:
        root.removeHandler(handler)
    handler = _Eco2Handler(sys.stderr)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
