"""The fake must reject what the real API rejects, or tests against it would prove nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fakes.openai_server import Completion, FakeOpenAIServer

STRICT_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {
        "name": "Reading",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"category": {"type": "string"}},
            "required": ["category"],
            "additionalProperties": False,
        },
    },
}


def post(server: FakeOpenAIServer, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key or server.api_key}"}
    return httpx.post(f"{server.base_url}/chat/completions", json=body, headers=headers, timeout=5)


def request(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "gpt-4o",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg"}},
                ],
            }
        ],
        "response_format": STRICT_FORMAT,
    }
    body.update(overrides)
    return body


@pytest.fixture
def server() -> Any:
    with FakeOpenAIServer(api_key="sk-fake") as running:
        yield running


def test_answers_with_the_chat_completion_shape(server: FakeOpenAIServer) -> None:
    server.script(Completion.of({"category": "general"}))

    response = post(server, request())

    body = response.json()
    assert response.status_code == 200
    assert response.headers["x-request-id"].startswith("req_")
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4o"
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": '{"category": "general"}',
        "refusal": None,
        "annotations": [],
    }
    assert body["choices"][0]["finish_reason"] == "stop"
    assert (
        body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    )


def test_wrong_key_is_401(server: FakeOpenAIServer) -> None:
    server.script(Completion.of({"category": "general"}))

    response = post(server, request(), key="sk-other")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert server.unused_script == []  # the scripted answer was spent on the rejected request


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (request(model=""), "model"),
        (request(messages=[]), "messages"),
        (request(messages=[{"role": "robot", "content": "hi"}]), "invalid message"),
        (
            request(
                messages=[
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x"}}]}
                ]
            ),
            "Invalid image URL",
        ),
        (
            request(
                messages=[
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,@@"}}],
                    }
                ]
            ),
            "base64",
        ),
        (request(response_format={"type": "json_object"}), "json_schema"),
        (
            request(
                response_format={
                    **STRICT_FORMAT,
                    "json_schema": {**STRICT_FORMAT["json_schema"], "strict": False},
                }
            ),
            "strict",
        ),
        (
            request(
                response_format={
                    "type": "json_schema",
                    "json_schema": {
                        "name": "Reading",
                        "strict": True,
                        "schema": {"type": "object", "properties": {"a": {"type": "string"}}, "required": []},
                    },
                }
            ),
            "additionalProperties",
        ),
    ],
    ids=[
        "no-model",
        "no-messages",
        "bad-role",
        "bad-image-scheme",
        "bad-base64",
        "not-json-schema",
        "not-strict",
        "open-object",
    ],
)
def test_rejects_what_the_real_api_rejects(
    server: FakeOpenAIServer, body: dict[str, Any], message: str
) -> None:
    response = post(server, body)

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert message in response.json()["error"]["message"]


def test_unscripted_request_is_a_500_that_names_the_problem(server: FakeOpenAIServer) -> None:
    response = post(server, request())

    assert response.status_code == 500
    assert "no scripted answer" in response.json()["error"]["message"]
    assert len(server.requests) == 1
