from __future__ import annotations

import pytest

from apps.locations.service import get_index, haversine_m

NEARBY = "/api/v1/locations/nearby"
INCHEON_MICHUHOL = {"lat": 37.4636, "lng": 126.6504}


def test_nearby_answers_from_keco_without_a_kakao_key(offline_client):
    response = offline_client.get(NEARBY, params=INCHEON_MICHUHOL)
    assert response.status_code == 200
    body = response.json()
    assert body["kakao_status"] == "disabled"
    assert body["degraded"] is False
    assert body["degraded_reason"] is None
    points = body["points"]
    assert 1 <= len(points) <= 5  # default limit
    distances = [p["distance_m"] for p in points]
    assert distances == sorted(distances)
    assert all(d <= 2_000 for d in distances)  # default radius
    expected = get_index().search(INCHEON_MICHUHOL["lat"], INCHEON_MICHUHOL["lng"], radius_m=2_000, limit=5)
    assert [p["id"] for p in points] == [m.point.id for m in expected]
    first = points[0]
    assert first["source"] == "keco"
    assert first["distance_m"] == round(
        haversine_m(INCHEON_MICHUHOL["lat"], INCHEON_MICHUHOL["lng"], first["lat"], first["lng"])
    )
    assert set(first) >= {
        "id",
        "name",
        "address",
        "phone",
        "accepted_items",
        "accepted_categories",
        "hours_today",
        "open_now",
        "distance_m",
    }


def test_nearby_reports_todays_hours_and_open_now(offline_client):
    # keco-1 is open on Tuesdays 11:00-14:00; the test clock is Tuesday 2026-11-24 12:30 KST.
    point = get_index().get("keco-1")
    assert point is not None
    body = offline_client.get(NEARBY, params={"lat": point.lat, "lng": point.lng, "radius_m": 100}).json()
    first = body["points"][0]
    assert first["id"] == "keco-1"
    assert first["distance_m"] == 0
    assert first["hours_today"] == {
        "date": "2026-11-24",
        "public_holiday": False,
        "text": "11:00 ~ 14:00",
        "status": "open",
        "ranges": ["11:00-14:00"],
    }
    assert first["open_now"] is True


def test_nearby_category_filter(offline_client):
    params = {**INCHEON_MICHUHOL, "radius_m": 20_000, "limit": 20, "category": "recyclable/paper_pack"}
    points = offline_client.get(NEARBY, params=params).json()["points"]
    assert points
    assert all("recyclable/paper_pack" in p["accepted_categories"] for p in points)


def test_nearby_finds_nothing_far_from_any_point(offline_client):
    body = offline_client.get(NEARBY, params={"lat": 37.2426, "lng": 131.8597, "radius_m": 20_000}).json()
    assert body["points"] == []


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"lat": 91, "lng": 127}, "lat", "less than or equal to 90"),
        ({"lat": 37.5, "lng": -181}, "lng", "greater than or equal to -180"),
        ({"lat": "north", "lng": 127}, "lat", "valid number"),
        ({"lat": "nan", "lng": 127}, "lat", "finite number"),
        ({"lat": 37.5, "lng": "-inf"}, "lng", "finite number"),
        ({"lng": 127}, "lat", "Field required"),
        ({"lat": 37.5, "lng": 127, "radius_m": 99}, "radius_m", "greater than or equal to 100"),
        ({"lat": 37.5, "lng": 127, "radius_m": 20_001}, "radius_m", "less than or equal to 20000"),
        ({"lat": 37.5, "lng": 127, "limit": 0}, "limit", "greater than or equal to 1"),
        ({"lat": 37.5, "lng": 127, "limit": 21}, "limit", "less than or equal to 20"),
    ],
)
def test_nearby_rejects_bad_numbers(offline_client, params, field, message):
    response = offline_client.get(NEARBY, params=params)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(e["loc"][-1] == field and message in e["msg"] for e in errors), errors


def test_nearby_rejects_points_outside_south_korea(offline_client):
    response = offline_client.get(NEARBY, params={"lat": 35.68, "lng": 139.76})  # Tokyo
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert "outside South Korea" in error["msg"]
    assert "lat 33.0..38.7, lng 124.5..132.0" in error["msg"]


def test_nearby_rejects_unknown_categories_naming_the_valid_keys(offline_client):
    response = offline_client.get(NEARBY, params={**INCHEON_MICHUHOL, "category": "plastic"})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "category"]
    assert "unknown category 'plastic'" in error["msg"]
    assert "recyclable/plastic" in error["msg"]
    assert "recyclable/paper_pack" in error["msg"]


def test_point_detail(offline_client):
    response = offline_client.get("/api/v1/locations/points/keco-1")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "keco-1"
    assert body["name"] == "고양동 종합복지회관"
    assert body["region"] == "고양시"
    assert body["location_hint"] == "고양동 종합복지회관 우측 천막"
    assert body["weekly_hours"]["tue"]["ranges"] == ["11:00-14:00"]
    assert body["weekly_hours"]["mon"]["status"] == "closed"
    assert body["holiday_hours"]["status"] == "closed"
    assert body["open_now"] is True
    assert "distance_m" not in body


def test_point_detail_shows_seasonal_and_week_rules(offline_client):
    emart = offline_client.get("/api/v1/locations/points/keco-160").json()  # 이마트 동인천점
    assert emart["weekly_hours"]["mon"]["seasonal"] == "months 7-9: 10:00-23:00"
    park = offline_client.get("/api/v1/locations/points/keco-167").json()  # served 1st/3rd/5th Mondays
    assert park["weekly_hours"]["mon"]["weeks_of_month"] == [1, 3, 5]
    assert park["hours_today"]["text"] == "휴무"  # the test clock is a Tuesday


@pytest.mark.parametrize("point_id", ["keco-999", "keco-47", "kakao-123", "1"])
def test_point_detail_unknown_is_404(offline_client, point_id):
    response = offline_client.get(f"/api/v1/locations/points/{point_id}")
    assert response.status_code == 404
    assert point_id in response.json()["detail"]
