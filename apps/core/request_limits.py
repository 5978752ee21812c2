"""Bounded work per request, before any parsing: a body-size limit and strict JSON.

A pure ASGI middleware. A declared Content-Length over the limit is refused at once (the body is never read);
a streamed body is counted and refused as soon as it passes the limit. JSON bodies are then checked strictly:
valid UTF-8, no NaN/Infinity, no lone surrogates (no database can store one) and bounded nesting. NUL
characters are refused by the fields that store text (NO_NUL_PATTERN). The endpoint sees the same bytes.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, Strict
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apps.core.errors import validation_issues

MAX_JSON_DEPTH = 32


# Text that reaches PostgreSQL cannot hold NUL: request fields that store text declare and check this.
NO_NUL_PATTERN = r"^[^\x00]*$"


def _integral_number(value: Any) -> Any:
    """JSON has one number type, and JSON Schema's "integer" admits ``309.0``: it is the integer 309. Other
    values pass unchanged to the strict check, which refuses a bool, a string and a fraction."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# A request integer: a JSON number with no fraction; never `true` (strict), never "309" (no coercion). Bounds
# go before the validator (as in `PositiveJsonInt`): after it, pydantic would not turn them into JSON Schema.
JsonInt = Annotated[int, Strict(), BeforeValidator(_integral_number)]
PositiveJsonInt = Annotated[int, Field(gt=0), Strict(), BeforeValidator(_integral_number)]


class RequestRejected(Exception):
    def __init__(self, status_code: int, body: dict[str, Any]) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.body = body


def _invalid_json(message: str) -> RequestRejected:
    issue = {"loc": ["body"], "msg": message, "type": "json_invalid"}
    return RequestRejected(422, {"detail": validation_issues([issue])})


def _reject_constant(name: str) -> None:
    raise _invalid_json(f"{name} is not a JSON number this API accepts")


def _check_value(value: Any, depth: int = 0) -> None:
    if depth > MAX_JSON_DEPTH:
        raise _invalid_json(f"the JSON nests deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _invalid_json("text must not contain unpaired surrogates") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_value(key, depth + 1)
            _check_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_value(item, depth + 1)


def check_strict_json(body: bytes) -> None:
    """Raise RequestRejected (422) unless `body` is JSON this API can process and store as sent."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid_json("the body is not valid UTF-8") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError:
        return  # malformed JSON: FastAPI reports it (422) with its position
    except RecursionError:
        raise _invalid_json(f"the JSON nests deeper than {MAX_JSON_DEPTH} levels") from None
    _check_value(value)


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


class RequestLimitsMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.lower(): value for name, value in scope["headers"]}
        if b"content-length" not in headers and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # HTTP/1.1: no body to bound or check (most GETs)
            return
        try:
            body = await self._read_body(headers, receive)
            if body and _is_json(headers.get(b"content-type", b"").decode("latin-1")):
                check_strict_json(body)
        except RequestRejected as rejected:
            await _send_json(send, rejected.status_code, rejected.body)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, headers: dict[bytes, bytes], receive: Receive) -> bytes:
        too_large = RequestRejected(413, {"detail": f"the request body exceeds {self.max_body_bytes} bytes"})
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                raise RequestRejected(400, {"detail": "invalid Content-Length header"})
            if int(declared) > self.max_body_bytes:
                raise too_large
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                raise RequestRejected(400, {"detail": "the request ended early"})
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as the server would

    return replay


async def _send_json(send: Send, status_code: int, content: dict[str, Any]) -> None:
    payload = json.dumps(content, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status_code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
