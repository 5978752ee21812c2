"""A local HTTP server that speaks enough of the OpenAI Chat Completions API to test real SDK calls.

openai ≥ 3 sends requests through httpx2, which respx cannot intercept, so tests point the SDK's ``base_url``
at this server instead. It checks what the real API would reject (bearer key, message shape, image parts,
strict ``json_schema`` response formats), answers with the real response JSON, is scripted per test, and
records every request it receives.

    with FakeOpenAIServer(api_key="sk-test") as server:
        server.script(Completion.of({"category": "recyclable/paper", ...}), HTTPError(429, retry_after=2))
        client = OpenAI(api_key="sk-test", base_url=server.base_url)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.asgi_server import ThreadedServer

_SCHEMA_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_DATA_URL = re.compile(r"^data:image/(jpeg|png|webp|gif);base64,(.+)$", re.DOTALL)
_ROLES = {"system", "developer", "user", "assistant"}


@dataclass(frozen=True)
class Completion:
    """A 200 answer whose assistant message content is `content`, verbatim (valid JSON or not)."""

    content: str
    finish_reason: str = "stop"

    @classmethod
    def of(cls, parsed: dict[str, Any]) -> Completion:
        """The answer a model gives when its structured output is `parsed`."""
        return cls(json.dumps(parsed, ensure_ascii=False))


@dataclass(frozen=True)
class Refusal:
    """A 200 answer in which the model declines: ``message.refusal`` set, ``content`` null."""

    message: str = "I'm sorry, I can't help with that."


@dataclass(frozen=True)
class HTTPError:
    """An error status with the API's error body; `retry_after` (seconds) sets the Retry-After header."""

    status: int
    message: str = "The server had an error while processing your request."
    error_type: str = "server_error"
    retry_after: float | None = None


@dataclass(frozen=True)
class Slow:
    """Answer `then` only after `delay` seconds (long enough for the client to time out)."""

    delay: float
    then: Completion | Refusal | HTTPError


Behaviour = Completion | Refusal | HTTPError | Slow


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def image_urls(self) -> list[str]:
        """Every ``image_url.url`` in the request's messages, in order."""
        return [
            part["image_url"]["url"]
            for message in self.body.get("messages", [])
            if isinstance(message.get("content"), list)
            for part in message["content"]
            if part.get("type") == "image_url"
        ]

    @property
    def text(self) -> str:
        """All text the request sent the model (system and user), joined by newlines."""
        chunks: list[str] = []
        for message in self.body.get("messages", []):
            content = message.get("content")
            if isinstance(content, str):
                chunks.append(content)
            elif isinstance(content, list):
                chunks.extend(part["text"] for part in content if part.get("type") == "text")
        return "\n".join(chunks)

    @property
    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = self.body["response_format"]["json_schema"]["schema"]
        return schema


class RequestRejected(Exception):
    """The request would be rejected by the real API (400 invalid_request_error)."""


@dataclass
class _State:
    api_key: str
    script: deque[Behaviour] = field(default_factory=deque)
    received: list[ReceivedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    closing: threading.Event = field(default_factory=threading.Event)
    ids: itertools.count[int] = field(default_factory=itertools.count)


class FakeOpenAIServer:
    """Runs in a background thread on 127.0.0.1 and a free port; use as a context manager."""

    def __init__(self, api_key: str = "sk-test-key") -> None:
        self._state = _State(api_key=api_key)
        app = Starlette(routes=[Route("/v1/chat/completions", self._chat_completions, methods=["POST"])])
        self._server = ThreadedServer(app, lifespan="off", name="fake-openai")
        self.port: int = self._server.port

    @property
    def api_key(self) -> str:
        return self._state.api_key

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Requests received so far (including rejected ones), oldest first."""
        with self._state.lock:
            return list(self._state.received)

    def script(self, *behaviours: Behaviour) -> None:
        """Queue answers for the next requests, one each, in order."""
        with self._state.lock:
            self._state.script.extend(behaviours)

    @property
    def unused_script(self) -> list[Behaviour]:
        with self._state.lock:
            return list(self._state.script)

    def __enter__(self) -> FakeOpenAIServer:
        self._server.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._state.closing.set()
        self._server.__exit__(exc_type, exc, tb)

    async def _chat_completions(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"_unparseable": raw.decode("utf-8", "replace")}
        received = ReceivedRequest(path=request.url.path, headers=dict(request.headers), body=body)
        with self._state.lock:
            self._state.received.append(received)
            behaviour = self._state.script.popleft() if self._state.script else None

        if request.headers.get("authorization") != f"Bearer {self._state.api_key}":
            return _error(401, "Incorrect API key provided.", "invalid_request_error", code="invalid_api_key")
        try:
            _check_chat_request(body)
        except RequestRejected as rejected:
            return _error(400, str(rejected), "invalid_request_error")
        if behaviour is None:
            return _error(500, "fake OpenAI server: no scripted answer left for this request", "server_error")

        if isinstance(behaviour, Slow):
            await self._sleep_unless_closing(behaviour.delay)
            behaviour = behaviour.then
        if isinstance(behaviour, HTTPError):
            headers = {} if behaviour.retry_after is None else {"retry-after": f"{behaviour.retry_after:g}"}
            return _error(behaviour.status, behaviour.message, behaviour.error_type, headers=headers)
        return JSONResponse(self._completion_body(body["model"], behaviour), headers=self._request_id())

    async def _sleep_unless_closing(self, delay: float) -> None:
        """Sleep, but end early when the server stops so a slow answer never delays the test's teardown."""
        await asyncio.to_thread(self._state.closing.wait, delay)

    def _completion_body(self, model: str, behaviour: Completion | Refusal) -> dict[str, Any]:
        message: dict[str, Any]
        if isinstance(behaviour, Refusal):
            message = {"role": "assistant", "content": None, "refusal": behaviour.message, "annotations": []}
            finish_reason, completion_text = "stop", behaviour.message
        else:
            message = {"role": "assistant", "content": behaviour.content, "refusal": None, "annotations": []}
            finish_reason, completion_text = behaviour.finish_reason, behaviour.content
        completion_tokens = max(1, len(completion_text) // 4)
        return {
            "id": f"chatcmpl-fake{next(self._state.ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
            "usage": {
                "prompt_tokens": 100,
                "completion_tokens": completion_tokens,
                "total_tokens": 100 + completion_tokens,
            },
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        }

    def _request_id(self) -> dict[str, str]:
        return {"x-request-id": f"req_fake{next(self._state.ids)}"}


def _error(
    status: int,
    message: str,
    error_type: str,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def _check_chat_request(body: dict[str, Any]) -> None:
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise RequestRejected("you must provide a model parameter")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestRejected("'messages' must be a non-empty array")
    for message in messages:
        _check_message(message)
    if "response_format" in body:
        _check_response_format(body["response_format"])


def _check_message(message: Any) -> None:
    if not isinstance(message, dict) or message.get("role") not in _ROLES:
        raise RequestRejected(f"invalid message: {message!r:.200}")
    content = message.get("content")
    if isinstance(content, str):
        return
    if not isinstance(content, list) or not content:
        raise RequestRejected("message content must be a string or a non-empty array of parts")
    for part in content:
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            continue
        if part.get("type") == "image_url" and message["role"] == "user":
            _check_image_url(part.get("image_url"))
            continue
        raise RequestRejected(f"invalid content part: {part!r:.200}")


def _check_image_url(image_url: Any) -> None:
    if not isinstance(image_url, dict) or not isinstance(image_url.get("url"), str):
        raise RequestRejected("image_url.url must be a string")
    if image_url.get("detail", "auto") not in {"auto", "low", "high"}:
        raise RequestRejected("image_url.detail must be one of auto, low, high")
    url: str = image_url["url"]
    if url.startswith(("https://", "http://")):
        return
    data_url = _DATA_URL.match(url)
    if data_url is None:
        raise RequestRejected("Invalid image URL: expected http(s) or a base64 data URL of a supported type")
    try:
        base64.b64decode(data_url.group(2), validate=True)
    except binascii.Error as error:
        raise RequestRejected(f"Invalid base64 image data: {error}") from error


def _check_response_format(response_format: Any) -> None:
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        raise RequestRejected("response_format.type must be json_schema")
    json_schema = response_format.get("json_schema") or {}
    if not _SCHEMA_NAME.match(str(json_schema.get("name", ""))):
        raise RequestRejected("response_format.json_schema.name must match ^[a-zA-Z0-9_-]{1,64}$")
    if json_schema.get("strict") is not True:
        raise RequestRejected("the fake server only accepts strict structured outputs")
    schema = json_schema.get("schema")
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise RequestRejected("response_format.json_schema.schema must be an object schema")
    _check_strict_schema(schema, "#")


def _check_strict_schema(node: Any, path: str) -> None:
    """Strict mode: every object closes its properties and requires all of them."""
    if isinstance(node, list):
        for index, child in enumerate(node):
            _check_strict_schema(child, f"{path}/{index}")
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "object" or "properties" in node:
        properties = node.get("properties", {})
        if node.get("additionalProperties") is not False:
            raise RequestRejected(f"Invalid schema: {path} must set additionalProperties to false")
        if set(node.get("required", [])) != set(properties):
            raise RequestRejected(f"Invalid schema: {path} must list every property in 'required'")
    for key, child in node.items():
        if key not in {"enum", "const", "default", "description", "title"}:
            _check_strict_schema(child, f"{path}/{key}")
