"""The recycling HTTP API, mounted in a throwaway app as the gateway mounts it (without the request limits:
they need the gateway's Redis clients; tests/waste/test_hardening.py covers them)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from apps.core.request_rate import search_rate_limit
from apps.recycling.router import CACHE_CONTROL, router

PREFIX = "/api/v1/recycling"


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.include_router(router, prefix=PREFIX)
    app.dependency_overrides[search_rate_limit] = lambda: None
    return TestClient(app)


def test_categories_tree(client: TestClient):
    response = client.get(f"{PREFIX}/categories")
    assert response.status_code == 200
    tree = response.json()["categories"]
    assert [node["key"] for node in tree] == [
        "recyclable",
        "general",
        "non_combustible",
        "food",
        "bulky",
        "construction",
        "hazardous",
        "unclassified",
    ]
    recyclable = tree[0]
    assert len(recyclable["children"]) == 12
    assert recyclable["item_count"] == sum(child["item_count"] for child in recyclable["children"])
    assert any("환경부" in source for source in response.json()["sources"])
    assert response.headers["cache-control"] == CACHE_CONTROL
    assert response.headers["etag"].startswith('"kb-')


def test_matching_etag_gets_304(client: TestClient):
    etag = client.get(f"{PREFIX}/categories").headers["etag"]
    response = client.get(f"{PREFIX}/categories", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    weak = client.get(f"{PREFIX}/situation-tags", headers={"If-None-Match": f'"kb-old", W/{etag}'})
    assert weak.status_code == 304
    stale = client.get(f"{PREFIX}/categories", headers={"If-None-Match": '"kb-old"'})
    assert stale.status_code == 200


def test_category_detail_with_rule_and_items(client: TestClient):
    response = client.get(f"{PREFIX}/categories/recyclable/paper_pack")
    assert response.status_code == 200
    body = response.json()
    assert body["label"] == "종이팩"
    assert body["parent"] == {"key": "recyclable", "label": "재활용폐기물"}
    assert body["rule"]["steps"][0] == "남은 음료를 모두 비우세요."
    assert "recyclable/paper_pack/milk_carton" in {item["key"] for item in body["items"]}
    adjustments = {adjustment["condition"]: adjustment for adjustment in body["rule"]["adjustments"]}
    assert adjustments["contents_remaining"]["condition_label"] == "내용물이 조금 남음"


def test_category_detail_shows_where_exceptions_go(client: TestClient):
    body = client.get(f"{PREFIX}/categories/recyclable/glass").json()
    broken = next(exception for exception in body["rule"]["exceptions"] if exception["what"] == "깨진 유리")
    assert broken["goes_to"] == {"key": "non_combustible", "label": "불연성종량제폐기물"}
    food = client.get(f"{PREFIX}/categories/food").json()
    bone = next(item for item in food["items"] if item["key"] == "food/bone")
    assert bone["goes_to"]["key"] == "general"


def test_major_category_detail_lists_children(client: TestClient):
    body = client.get(f"{PREFIX}/categories/recyclable").json()
    assert len(body["children"]) == 12
    assert body["parent"] is None


@pytest.mark.parametrize("key", ["nope", "recyclable/nope", "recyclable/paper_pack/milk_carton"])
def test_unknown_category_is_404_with_a_clear_message(client: TestClient, key: str):
    response = client.get(f"{PREFIX}/categories/{key}")
    assert response.status_code == 404
    assert response.json()["detail"].startswith(f"unknown category key '{key}'")


def test_item_key_404_points_to_the_items_category(client: TestClient):
    response = client.get(f"{PREFIX}/categories/food/bone")
    assert response.status_code == 404
    assert response.json()["detail"].endswith("('food/bone' is an item of 'general')")


def test_item_search(client: TestClient):
    response = client.get(f"{PREFIX}/items/search", params={"q": "우유 팩", "limit": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "우유 팩"
    assert body["results"][0]["key"] == "recyclable/paper_pack/milk_carton"
    assert len(body["results"]) <= 3
    typo = client.get(f"{PREFIX}/items/search", params={"q": "스티로품"}).json()
    assert typo["results"][0]["category"] == "recyclable/styrofoam"


def test_search_without_matches_is_an_empty_list(client: TestClient):
    response = client.get(f"{PREFIX}/items/search", params={"q": "zzqx"})
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "!?"},
        {"q": "가" * 51},
        {"q": "유리", "limit": 0},
        {"q": "유리", "limit": 51},
    ],
)
def test_bad_search_requests_are_422(client: TestClient, params: dict[str, str | int]):
    assert client.get(f"{PREFIX}/items/search", params=params).status_code == 422


def test_situation_tags(client: TestClient):
    response = client.get(f"{PREFIX}/situation-tags")
    assert response.status_code == 200
    tags = {tag["key"]: tag for tag in response.json()["tags"]}
    assert tags["label_attached"] == {
        "key": "label_attached",
        "label": "라벨이 붙어 있음",
        "group": "label_cap",
    }
    assert len(tags) >= 70
