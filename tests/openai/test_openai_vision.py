"""The vision analyzer against the fake OpenAI server: real SDK calls, real HTTP, every failure path."""

from __future__ import annotations

import base64
import io
import uuid
from typing import Any

import pytest
import redis
from PIL import Image
from pydantic import SecretStr
from redis.backoff import NoBackoff
from redis.retry import Retry

from apps.core.rate_limit import RedisRateLimiter
from apps.core.settings import Settings
from apps.recycling.taxonomy import get_situation_tags, get_taxonomy
from apps.waste.analysis.errors import AnalyzerError
from apps.waste.analysis.openai_vision import (
    MAX_HINT_CHARS,
    NOT_WASTE_NOTE,
    RATE_LIMIT_KEY,
    OpenAICaller,
    OpenAIVisionAnalyzer,
    default_rate_limiter,
)
from apps.waste.analysis.types import AnalyzerSource
from tests.fakes.openai_server import Completion, FakeOpenAIServer, HTTPError, Refusal, Slow
from tests.openai.conftest import API_KEY, photo

PET = "recyclable/clear_pet"
WATER_BOTTLE = "recyclable/clear_pet/water_bottle"


def reading(**overrides: Any) -> dict[str, Any]:
    """A well-formed model answer: a clear PET water bottle with its label and cap on."""
    answer: dict[str, Any] = {
        "observation": "라벨이 붙은 투명한 생수병이에요.",
        "is_waste": True,
        "category": PET,
        "item": WATER_BOTTLE,
        "confidence": 0.86,
        "alternatives": [{"category": "recyclable/plastic", "probability": 0.1}],
        "conditions": ["label_attached", "cap_on"],
    }
    answer.update(overrides)
    return answer


@pytest.fixture
def analyzer(settings: Settings, caller: OpenAICaller) -> OpenAIVisionAnalyzer:
    return OpenAIVisionAnalyzer(settings, caller=caller)


def analyze_failure(analyzer: OpenAIVisionAnalyzer) -> AnalyzerError:
    with pytest.raises(AnalyzerError) as raised:
        analyzer.analyze(photo())
    return raised.value


def test_success_maps_category_item_and_conditions(
    analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(Completion.of(reading()))

    result = analyzer.analyze(photo(), hint="생수병이에요")

    assert result.status == "confident"
    assert result.category == PET
    assert result.item == WATER_BOTTLE
    assert result.confidence == pytest.approx(0.86)
    assert [c.category for c in result.candidates] == [PET, "recyclable/plastic"]
    assert [c.probability for c in result.candidates] == pytest.approx([0.86, 0.1])
    assert result.conditions == ["label_attached", "cap_on"]
    assert result.source is AnalyzerSource.OPENAI
    assert result.fallback_reason is None
    assert result.notes == "라벨이 붙은 투명한 생수병이에요."


def test_request_carries_model_key_closed_schema_image_and_hint(
    analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(Completion.of(reading()))

    analyzer.analyze(photo(), hint="  생수병이에요  ")

    (request,) = fake_openai.requests
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.body["model"] == "gpt-4o-2024-08-06"
    assert request.body["response_format"]["type"] == "json_schema"
    assert request.body["response_format"]["json_schema"]["strict"] is True
    definitions = request.json_schema["$defs"]
    assert set(definitions["CategoryKey"]["enum"]) == {c.key for c in get_taxonomy().categories()}
    assert set(definitions["ItemKey"]["enum"]) == {i.key for i in get_taxonomy().items()}
    assert set(definitions["ConditionKey"]["enum"]) == {t.key for t in get_situation_tags()}
    assert request.json_schema["additionalProperties"] is False
    assert len(request.image_urls) == 1
    assert request.image_urls[0].startswith("data:image/jpeg;base64,")
    assert '"생수병이에요"' in request.text
    assert "분리배출" in request.text  # the system prompt is grounded in the Korean rules


def test_presigned_url_is_sent_instead_of_the_bytes(
    analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer
) -> None:
    url = "https://eco2-images.s3.ap-northeast-2.amazonaws.com/scans/u/1.jpg?X-Amz-Signature=abc"
    fake_openai.script(Completion.of(reading()))

    analyzer.analyze(photo(url=url))

    assert fake_openai.requests[0].image_urls == [url]


def test_large_image_is_downscaled_to_a_jpeg_data_url(
    analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(Completion.of(reading()))

    analyzer.analyze(photo(width=4032, height=3024, fmt="PNG"))

    data_url = fake_openai.requests[0].image_urls[0]
    header, encoded = data_url.split(",", 1)
    sent = Image.open(io.BytesIO(base64.b64decode(encoded)))
    assert header == "data:image/jpeg;base64"
    assert sent.format == "JPEG"
    assert sent.size == (1024, 768)


def test_overlong_hint_is_cut(analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.script(Completion.of(reading()))

    analyzer.analyze(photo(), hint="가" * 5000)

    assert "가" * MAX_HINT_CHARS in fake_openai.requests[0].text
    assert "가" * (MAX_HINT_CHARS + 1) not in fake_openai.requests[0].text


def test_not_waste_becomes_uncertain_with_a_note(
    analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(
        Completion.of(
            reading(
                observation="고양이 사진이에요.",
                is_waste=False,
                category=None,
                item=None,
                confidence=0.0,
                alternatives=[],
                conditions=[],
            )
        )
    )

    result = analyzer.analyze(photo())

    assert result.status == "uncertain"
    assert result.category is None
    assert result.item is None
    assert result.confidence == 0.0
    assert result.candidates == []
    assert result.notes == f"{NOT_WASTE_NOTE} 고양이 사진이에요."
    assert result.source is AnalyzerSource.OPENAI


def test_unsure_model_gives_uncertain_with_its_candidates(
    analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(
        Completion.of(
            reading(
                category=None,
                item=None,
                confidence=0.0,
                alternatives=[
                    {"category": "recyclable/plastic", "probability": 0.4},
                    {"category": "general", "probability": 0.45},
                ],
            )
        )
    )

    result = analyzer.analyze(photo())

    assert result.status == "uncertain"
    assert result.category is None
    assert [c.category for c in result.candidates] == ["general", "recyclable/plastic"]
    assert result.confidence == pytest.approx(0.45)


def test_low_confidence_answer_is_uncertain(
    analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(Completion.of(reading(confidence=0.5, alternatives=[])))

    result = analyzer.analyze(photo())

    assert result.status == "uncertain"
    assert result.category is None
    assert result.item is None
    assert result.candidates[0].category == PET
    assert result.confidence == pytest.approx(0.5)


def test_overcommitted_probabilities_are_normalised(
    analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer
) -> None:
    alternatives = [
        {"category": "recyclable/plastic", "probability": 0.6},
        {"category": PET, "probability": 0.3},  # repeats the answer: ignored
    ]
    fake_openai.script(
        Completion.of(reading(confidence=0.9, alternatives=alternatives, conditions=["cap_on"] * 2))
    )

    result = analyzer.analyze(photo())

    assert [c.category for c in result.candidates] == [PET, "recyclable/plastic"]
    assert sum(c.probability for c in result.candidates) == pytest.approx(1.0)
    assert result.confidence == pytest.approx(0.6)
    assert result.status == "confident"
    assert result.conditions == ["cap_on"]


def test_alternative_ranked_above_the_answer_is_uncertain(
    analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer
) -> None:
    alternatives = [{"category": "recyclable/plastic", "probability": 0.7}]
    fake_openai.script(Completion.of(reading(confidence=0.65, alternatives=alternatives)))

    result = analyzer.analyze(photo())

    assert result.status == "uncertain"
    assert result.category is None
    assert result.candidates[0].category == "recyclable/plastic"


@pytest.mark.parametrize(
    ("answer", "label"),
    [
        (reading(category="recyclable/unicorn"), "unknown category key"),
        (reading(conditions=["sparkly"]), "unknown condition key"),
        (reading(item="recyclable/paper/newspaper"), "item from another category"),
        (reading(confidence=1.5), "probability above 1"),
        ({k: v for k, v in reading().items() if k != "is_waste"}, "missing field"),
        (reading(extra="field"), "extra field"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_schema_invalid_output_is_a_retryable_invalid_output(
    analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer, answer: dict[str, Any], label: str
) -> None:
    fake_openai.script(Completion.of(answer))

    error = analyze_failure(analyzer)

    assert error.reason == "invalid_output", label
    assert error.retryable is True


def test_non_json_content_is_a_retryable_invalid_output(
    analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(Completion("I think this is a bottle."))

    error = analyze_failure(analyzer)

    assert (error.reason, error.retryable) == ("invalid_output", True)


def test_empty_content_is_a_retryable_invalid_output(
    analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(Completion(""))

    error = analyze_failure(analyzer)

    assert (error.reason, error.retryable) == ("invalid_output", True)
    assert error.detail == "the model returned no content"


def test_truncated_answer_is_a_retryable_invalid_output(
    analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(Completion('{"observation": "라벨이', finish_reason="length"))

    error = analyze_failure(analyzer)

    assert (error.reason, error.retryable) == ("invalid_output", True)


def test_refusal_is_not_retryable(analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.script(Refusal("I can't help with identifying this image."))

    error = analyze_failure(analyzer)

    assert (error.reason, error.retryable) == ("refusal", False)
    assert "can't help" in error.detail


def test_content_filter_is_not_retryable(
    analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(Completion("", finish_reason="content_filter"))

    error = analyze_failure(analyzer)

    assert (error.reason, error.retryable) == ("content_filtered", False)


def test_timeout_is_retryable(analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.script(Slow(5.0, Completion.of(reading())))

    error = analyze_failure(analyzer)

    assert (error.reason, error.retryable) == ("timeout", True)
    assert len(fake_openai.requests) == 1  # the SDK's own retries are off


def test_429_is_retryable_and_carries_retry_after(
    analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(HTTPError(429, "Rate limit reached for gpt-4o", "requests", retry_after=7))

    error = analyze_failure(analyzer)

    assert (error.reason, error.retryable, error.retry_after) == ("rate_limited", True, 7.0)
    assert len(fake_openai.requests) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retryable(analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer, status: int) -> None:
    fake_openai.script(HTTPError(status))

    error = analyze_failure(analyzer)

    assert (error.reason, error.retryable) == ("server_error", True)
    assert len(fake_openai.requests) == 1


def test_400_is_not_retryable(analyzer: OpenAIVisionAnalyzer, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.script(HTTPError(400, "Invalid image.", "invalid_request_error"))

    error = analyze_failure(analyzer)

    assert (error.reason, error.retryable) == ("bad_request", False)


def test_wrong_api_key_is_not_retryable(
    fake_openai: FakeOpenAIServer, settings: Settings, rate_limiter: RedisRateLimiter
) -> None:
    wrong = settings.model_copy(update={"openai_api_key": SecretStr("sk-wrong")})
    analyzer = OpenAIVisionAnalyzer(wrong, caller=OpenAICaller(wrong, rate_limiter=rate_limiter))

    error = analyze_failure(analyzer)

    assert (error.reason, error.retryable) == ("unauthorized", False)
    assert fake_openai.requests[0].headers["authorization"] == "Bearer sk-wrong"


def test_unreachable_server_is_a_retryable_connection_error(
    settings: Settings, rate_limiter: RedisRateLimiter
) -> None:
    with FakeOpenAIServer() as stopped:
        base_url = stopped.base_url
    unreachable = settings.model_copy(update={"openai_base_url": base_url})
    analyzer = OpenAIVisionAnalyzer(unreachable, caller=OpenAICaller(unreachable, rate_limiter=rate_limiter))

    error = analyze_failure(analyzer)

    assert (error.reason, error.retryable) == ("connection_error", True)


def test_missing_api_key_is_not_configured_and_sends_nothing(
    fake_openai: FakeOpenAIServer, settings: Settings, rate_limiter: RedisRateLimiter
) -> None:
    unconfigured = settings.model_copy(update={"openai_api_key": None})
    caller = OpenAICaller(unconfigured, rate_limiter=rate_limiter)
    analyzer = OpenAIVisionAnalyzer(unconfigured, caller=caller)

    error = analyze_failure(analyzer)

    assert caller.configured is False
    assert (error.reason, error.retryable) == ("not_configured", False)
    assert fake_openai.requests == []


def test_exhausted_global_rate_limit_throttles_without_calling(
    fake_openai: FakeOpenAIServer, settings: Settings, redis_client: redis.Redis
) -> None:
    key = f"test:openai-rate:{uuid.uuid4()}"
    limiter = RedisRateLimiter(redis_client, key, rate_per_minute=1, burst=1)
    analyzer = OpenAIVisionAnalyzer(settings, caller=OpenAICaller(settings, rate_limiter=limiter))
    fake_openai.script(Completion.of(reading()), Completion.of(reading()))
    try:
        first = analyzer.analyze(photo())
        error = analyze_failure(analyzer)
    finally:
        redis_client.delete(key)

    assert first.category == PET
    assert (error.reason, error.retryable) == ("throttled", True)
    assert error.retry_after is not None and 55 < error.retry_after <= 60
    assert len(fake_openai.requests) == 1


def test_unreachable_redis_does_not_stop_analysis(fake_openai: FakeOpenAIServer, settings: Settings) -> None:
    dead_redis = redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), retries=0))
    limiter = RedisRateLimiter(dead_redis, "unused", rate_per_minute=60, burst=1)
    analyzer = OpenAIVisionAnalyzer(settings, caller=OpenAICaller(settings, rate_limiter=limiter))
    fake_openai.script(Completion.of(reading()))

    result = analyzer.analyze(photo())

    assert result.category == PET
    assert len(fake_openai.requests) == 1


def test_default_limiter_is_shared_and_sized_from_settings(settings: Settings) -> None:
    limiter = default_rate_limiter(settings.model_copy(update={"openai_requests_per_minute": 500}))

    assert (limiter.key, limiter.rate_per_minute, limiter.burst) == (RATE_LIMIT_KEY, 500, 50)
