from __future__ import annotations

import dataclasses
import math

import pytest

from apps.locations.categories import UnknownCategoryError, category_matches
from apps.locations.dataset import CollectionPoint, load_dataset
from apps.locations.hours import WeeklyHours, parse_day_hours
from apps.locations.service import EARTH_RADIUS_M, PointIndex, get_index, haversine_m, nearest_points

SEOUL_CITY_HALL = (37.5662952, 126.9779451)
GANGNAM_STATION = (37.4979502, 127.0276368)
BUSAN_CITY_HALL = (35.1798159, 129.0750222)
JEJU_CITY_HALL = (33.4996213, 126.5311884)
INCHEON_MICHUHOL = (37.4636, 126.6504)  # a dense cluster of points


@pytest.mark.parametrize(
    ("a", "b", "geodesic_m"),
    [
        # Reference: WGS84 ellipsoidal geodesic distances (Vincenty's inverse formula).
        (SEOUL_CITY_HALL, GANGNAM_STATION, 8_765.3),
        (SEOUL_CITY_HALL, BUSAN_CITY_HALL, 324_850.1),
        (JEJU_CITY_HALL, SEOUL_CITY_HALL, 453_013.2),
    ],
)
def test_haversine_matches_the_geodesic_within_one_percent(a, b, geodesic_m):
    distance = haversine_m(*a, *b)
    assert distance == pytest.approx(geodesic_m, rel=0.01)
    assert haversine_m(*b, *a) == pytest.approx(distance)


def test_haversine_basics():
    assert haversine_m(*SEOUL_CITY_HALL, *SEOUL_CITY_HALL) == 0.0
    assert haversine_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(math.pi * EARTH_RADIUS_M / 180)
    assert haversine_m(0.0, 0.0, 0.0, 180.0) == pytest.approx(math.pi * EARTH_RADIUS_M)


def brute_force(lat: float, lng: float, radius_m: float, category: str | None, limit: int) -> list[str]:
    """Reference search: every point, plain haversine, sort."""
    hits = []
    for point in load_dataset().points:
        if category is not None and not category_matches(category, point.accepted_categories):
            continue
        distance = haversine_m(lat, lng, point.lat, point.lng)
        if distance <= radius_m:
            hits.append((distance, point.id))
    return [point_id for _, point_id in sorted(hits)[:limit]]


@pytest.mark.parametrize("origin", [SEOUL_CITY_HALL, INCHEON_MICHUHOL, BUSAN_CITY_HALL, JEJU_CITY_HALL])
@pytest.mark.parametrize("radius_m", [500, 2_000, 20_000])
@pytest.mark.parametrize("category", [None, "recyclable", "recyclable/paper_pack", "recyclable/battery"])
def test_search_agrees_with_brute_force(origin, radius_m, category):
    lat, lng = origin
    matches = get_index().search(lat, lng, radius_m=radius_m, category=category, limit=20)
    assert [m.point.id for m in matches] == brute_force(lat, lng, radius_m, category, 20)


def test_results_are_sorted_within_radius_and_limited():
    matches = get_index().search(*INCHEON_MICHUHOL, radius_m=5_000, limit=10)
    assert len(matches) == 10
    distances = [m.distance_m for m in matches]
    assert distances == sorted(distances)
    assert all(d <= 5_000 for d in distances)
    for match in matches:
        assert match.distance_m == pytest.approx(
            haversine_m(*INCHEON_MICHUHOL, match.point.lat, match.point.lng)
        )


def test_radius_filter_cuts_exactly_at_the_radius():
    nearest = get_index().search(*SEOUL_CITY_HALL, radius_m=20_000, limit=1)[0]
    assert nearest.point.id == "keco-67"  # 소각제로가게 마포중앙도서관점, about 6.1 km west
    assert (
        get_index().search(*SEOUL_CITY_HALL, radius_m=nearest.distance_m + 1, limit=5)[0].point.id
        == "keco-67"
    )
    assert get_index().search(*SEOUL_CITY_HALL, radius_m=nearest.distance_m - 1, limit=5) == []


def test_category_filter_returns_only_points_that_accept_it():
    matches = get_index().search(
        *INCHEON_MICHUHOL, radius_m=20_000, category="recyclable/paper_pack", limit=20
    )
    assert matches
    assert all("recyclable/paper_pack" in m.point.accepted_categories for m in matches)
    unfiltered = get_index().search(*INCHEON_MICHUHOL, radius_m=20_000, limit=20)
    assert any("recyclable/paper_pack" not in m.point.accepted_categories for m in unfiltered)


def test_categories_no_point_takes_find_nothing():
    assert get_index().search(*SEOUL_CITY_HALL, radius_m=20_000, category="food", limit=5) == []


def test_unknown_category_is_rejected():
    with pytest.raises(UnknownCategoryError, match="valid keys"):
        get_index().search(*SEOUL_CITY_HALL, radius_m=2_000, category="plastics", limit=5)


@pytest.mark.parametrize(
    ("lat", "lng", "radius_m", "limit", "message"),
    [
        (91.0, 127.0, 1_000, 5, "invalid coordinates"),
        (37.5, math.nan, 1_000, 5, "invalid coordinates"),
        (37.5, 127.0, 0, 5, "radius_m must be positive"),
        (37.5, 127.0, 1_000, 0, "limit at least 1"),
    ],
)
def test_bad_numbers_are_rejected(lat, lng, radius_m, limit, message):
    with pytest.raises(ValueError, match=message):
        get_index().search(lat, lng, radius_m=radius_m, limit=limit)


def test_get_by_id():
    point = get_index().get("keco-1")
    assert point is not None
    assert point.name == "고양동 종합복지회관"
    assert get_index().get("keco-47") is None  # skipped at load: latitude 5.157
    assert get_index().get("nope") is None


def test_nearest_points_for_the_scan_pipeline():
    points = nearest_points(*INCHEON_MICHUHOL, "recyclable/clear_pet")
    assert len(points) == 3
    assert all(isinstance(p, CollectionPoint) for p in points)
    assert [p.id for p in points] == brute_force(*INCHEON_MICHUHOL, 20_000, "recyclable/clear_pet", 3)
    assert [p.id for p in nearest_points(*INCHEON_MICHUHOL, None, limit=1)] == brute_force(
        *INCHEON_MICHUHOL, 20_000, None, 1
    )
    assert nearest_points(37.2426, 131.8597, None) == []  # Dokdo: nothing within 20 km


def test_nearest_points_radius_is_adjustable():
    assert nearest_points(*SEOUL_CITY_HALL, None, radius_m=5_000) == []
    assert nearest_points(*SEOUL_CITY_HALL, None, radius_m=7_000)[0].id == "keco-67"


def _destination(lat: float, lng: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    """Spherical forward problem: the point ``distance_m`` from (lat, lng) along ``bearing_deg``."""
    delta = distance_m / EARTH_RADIUS_M
    phi1, lam1, theta = math.radians(lat), math.radians(lng), math.radians(bearing_deg)
    phi2 = math.asin(math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta))
    lam2 = lam1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1), math.cos(delta) - math.sin(phi1) * math.sin(phi2)
    )
    return math.degrees(phi2), (math.degrees(lam2) + 540) % 360 - 180


def _synthetic_index(coordinates: list[tuple[float, float]]) -> PointIndex:
    template = load_dataset().points[0]
    hours = WeeklyHours(tuple(parse_day_hours("상시") for _ in range(7)), parse_day_hours("상시"))
    return PointIndex(
        [
            dataclasses.replace(template, id=f"p{i}", lat=lat, lng=lng, hours=hours)
            for i, (lat, lng) in enumerate(coordinates)
        ]
    )


@pytest.mark.parametrize("origin", [(37.5, 127.0), (70.0, 20.0), (-45.0, 179.99)])
def test_bounding_box_never_drops_a_point_inside_the_radius(origin):
    lat, lng = origin
    radius = 20_000
    bearings = range(0, 360, 15)
    inside = _synthetic_index([_destination(lat, lng, b, radius * 0.999) for b in bearings])
    outside = _synthetic_index([_destination(lat, lng, b, radius * 1.001) for b in bearings])
    assert len(inside.search(lat, lng, radius_m=radius, limit=100)) == len(bearings)
    assert outside.search(lat, lng, radius_m=radius, limit=100) == []
