from __future__ import annotations

import asyncio
import socket

import pytest

from apps.locations.kakao import KakaoFailure, KakaoLocalClient, KakaoLocalError, KakaoPlace
from apps.locations.router import get_kakao_client
from apps.locations.settings import LocationsSettings
from tests.locations.fake_kakao import API_KEY, FakePlace
from tests.support.tls_loads import count_ca_loads

NEARBY = "/api/v1/locations/nearby"
SEOUL_CITY_HALL = (37.5662952, 126.9779451)
KECO_MAPO = (37.563611, 126.908611)  # keco-67, about 6.1 km west of City Hall


def north_of_city_hall(metres: float) -> tuple[float, float]:
    return SEOUL_CITY_HALL[0] + metres / 111_195.0, SEOUL_CITY_HALL[1]


def kakao_settings(url: str, key: str = API_KEY, timeout: float = 1.0) -> LocationsSettings:
    return LocationsSettings(kakao_rest_api_key=key, kakao_local_base_url=url, kakao_timeout_seconds=timeout)


def search(url: str, *, key: str = API_KEY, timeout: float = 1.0, radius_m: int = 7_000) -> list[KakaoPlace]:
    client = KakaoLocalClient(key, base_url=url, timeout_seconds=timeout)
    return asyncio.run(
        client.search_keyword("고물상", lat=SEOUL_CITY_HALL[0], lng=SEOUL_CITY_HALL[1], radius_m=radius_m)
    )


def test_client_sends_the_documented_request(fake_kakao, fake_kakao_url):
    fake_kakao.places.append(
        FakePlace("11", "종로 고물상", *north_of_city_hall(1_000), road_address="서울 종로구 1")
    )
    places = search(fake_kakao_url)
    (request,) = fake_kakao.requests
    assert request["headers"]["authorization"] == f"KakaoAK {API_KEY}"
    assert request["params"] == {
        "query": "고물상",
        "x": str(SEOUL_CITY_HALL[1]),
        "y": str(SEOUL_CITY_HALL[0]),
        "radius": "7000",
        "size": "15",
        "sort": "distance",
    }
    (place,) = places
    assert place.id == "11"
    assert place.place_name == "종로 고물상"
    assert place.road_address_name == "서울 종로구 1"
    assert (place.y, place.x) == pytest.approx(north_of_city_hall(1_000))  # parsed from strings
    assert place.place_url == "http://place.map.kakao.com/11"


def test_searches_share_one_tls_context(fake_kakao, fake_kakao_url, monkeypatch: pytest.MonkeyPatch):
    """Loading the CA bundle into a TLS context costs ~30 ms of CPU: once per process, not per search."""
    search(fake_kakao_url)  # the first search may build it
    loads = count_ca_loads(monkeypatch)
    for _ in range(3):
        search(fake_kakao_url)
    assert loads == [] and len(fake_kakao.requests) == 4


def test_client_caps_the_radius_at_kakaos_maximum(fake_kakao, fake_kakao_url):
    search(fake_kakao_url, radius_m=50_000)
    assert fake_kakao.requests[0]["params"]["radius"] == "20000"


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        ("unauthorized", KakaoFailure.UNAUTHORIZED),
        ("rate_limited", KakaoFailure.RATE_LIMITED),
        ("server_error", KakaoFailure.UPSTREAM_ERROR),
        ("not_json", KakaoFailure.BAD_RESPONSE),
        ("wrong_shape", KakaoFailure.BAD_RESPONSE),
        ("bad_coordinates", KakaoFailure.BAD_RESPONSE),
    ],
)
def test_client_failures_are_classified(fake_kakao, fake_kakao_url, failure, expected):
    fake_kakao.failure = failure
    with pytest.raises(KakaoLocalError) as excinfo:
        search(fake_kakao_url)
    assert excinfo.value.failure is expected


def test_client_wrong_key_is_unauthorized(fake_kakao, fake_kakao_url):
    with pytest.raises(KakaoLocalError) as excinfo:
        search(fake_kakao_url, key="wrong-key")
    assert excinfo.value.failure is KakaoFailure.UNAUTHORIZED
    assert "cannot find appkey" in str(excinfo.value)


def test_client_times_out(fake_kakao, fake_kakao_url):
    fake_kakao.failure = "slow"
    fake_kakao.slow_seconds = 1.0
    with pytest.raises(KakaoLocalError) as excinfo:
        search(fake_kakao_url, timeout=0.2)
    assert excinfo.value.failure is KakaoFailure.TIMEOUT


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_client_unreachable():
    with pytest.raises(KakaoLocalError) as excinfo:
        search(closed_port_url())
    assert excinfo.value.failure is KakaoFailure.UNREACHABLE


def nearby_params(**extra: object) -> dict[str, object]:
    return {"lat": SEOUL_CITY_HALL[0], "lng": SEOUL_CITY_HALL[1], "radius_m": 7_000, **extra}


def test_nearby_merges_kakao_places_with_keco_points(fake_kakao, fake_kakao_url, make_client):
    fake_kakao.places += [
        FakePlace("1", "가까운 자원순환가게", *north_of_city_hall(1_000), phone="02-000-0001"),
        FakePlace("2", "먼 자원순환가게", *north_of_city_hall(6_900), address="서울 어딘가 2"),
        FakePlace("3", "마포 자원순환가게 (KECO와 같은 곳)", KECO_MAPO[0] + 0.0001, KECO_MAPO[1]),
        FakePlace("4", "반경 밖", *north_of_city_hall(9_000)),
    ]
    response = make_client(kakao_settings(fake_kakao_url)).get(NEARBY, params=nearby_params())
    assert response.status_code == 200
    body = response.json()
    assert body["kakao_status"] == "ok"
    assert body["degraded"] is False
    assert [(p["source"], p["id"]) for p in body["points"]] == [
        ("kakao", "kakao-1"),
        ("keco", "keco-67"),
        ("kakao", "kakao-2"),
    ]
    near = body["points"][0]
    assert near["name"] == "가까운 자원순환가게"
    assert near["distance_m"] == pytest.approx(1_000, abs=2)
    assert near["phone"] == "02-000-0001"
    assert near["place_url"] == "http://place.map.kakao.com/1"
    assert near["search_keyword"] == "자원순환가게"  # no category: buy-back shops
    assert near["accepted_categories"] == []
    assert near["open_now"] is None
    assert near["hours_today"] is None
    assert body["points"][2]["address"] == "서울 어딘가 2"
    (request,) = fake_kakao.requests
    assert request["params"]["query"] == "자원순환가게"
    assert request["params"]["radius"] == "7000"


def test_nearby_drops_kakao_places_beyond_the_radius(fake_kakao, fake_kakao_url, make_client):
    fake_kakao.honour_radius = False
    fake_kakao.places.append(FakePlace("9", "조금 먼 곳", *north_of_city_hall(7_050)))
    body = make_client(kakao_settings(fake_kakao_url)).get(NEARBY, params=nearby_params()).json()
    assert [p["id"] for p in body["points"]] == ["keco-67"]


def test_nearby_respects_the_limit_across_sources(fake_kakao, fake_kakao_url, make_client):
    fake_kakao.places += [FakePlace(str(i), f"곳 {i}", *north_of_city_hall(100 * i)) for i in range(1, 16)]
    body = make_client(kakao_settings(fake_kakao_url)).get(NEARBY, params=nearby_params(limit=4)).json()
    assert [p["id"] for p in body["points"]] == ["kakao-1", "kakao-2", "kakao-3", "kakao-4"]


def test_nearby_searches_kakao_with_the_categorys_keyword(fake_kakao, fake_kakao_url, make_client):
    client = make_client(kakao_settings(fake_kakao_url))
    client.get(NEARBY, params=nearby_params(category="recyclable/battery"))
    client.get(NEARBY, params=nearby_params(category="recyclable/metal"))
    assert [r["params"]["query"] for r in fake_kakao.requests] == ["주민센터", "고물상"]


def test_nearby_skips_kakao_for_categories_no_place_takes(fake_kakao, fake_kakao_url, make_client):
    body = (
        make_client(kakao_settings(fake_kakao_url)).get(NEARBY, params=nearby_params(category="food")).json()
    )
    assert body["kakao_status"] == "not_applicable"
    assert body["points"] == []
    assert fake_kakao.requests == []


def test_nearby_without_a_key_never_calls_kakao(fake_kakao, offline_client):
    body = offline_client.get(NEARBY, params=nearby_params()).json()
    assert body["kakao_status"] == "disabled"
    assert fake_kakao.requests == []


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        ("unauthorized", "kakao_unauthorized"),
        ("rate_limited", "kakao_rate_limited"),
        ("server_error", "kakao_upstream_error"),
        ("not_json", "kakao_bad_response"),
        ("wrong_shape", "kakao_bad_response"),
        ("bad_coordinates", "kakao_bad_response"),
        ("slow", "kakao_timeout"),
    ],
)
def test_nearby_degrades_to_keco_on_kakao_failure(
    fake_kakao, fake_kakao_url, make_client, offline_client, failure, reason, caplog
):
    fake_kakao.failure = failure
    fake_kakao.slow_seconds = 1.0
    fake_kakao.places.append(FakePlace("1", "나오면 안 되는 곳", *north_of_city_hall(500)))
    response = make_client(kakao_settings(fake_kakao_url, timeout=0.2)).get(NEARBY, params=nearby_params())
    assert response.status_code == 200
    body = response.json()
    assert body["kakao_status"] == "degraded"
    assert body["degraded"] is True
    assert body["degraded_reason"] == reason
    assert body["points"] == offline_client.get(NEARBY, params=nearby_params()).json()["points"]
    assert [p["id"] for p in body["points"]] == ["keco-67"]
    assert "Kakao Local search failed" in caplog.text


def test_nearby_degrades_when_kakao_is_unreachable(make_client):
    body = make_client(kakao_settings(closed_port_url())).get(NEARBY, params=nearby_params()).json()
    assert body["degraded_reason"] == "kakao_unreachable"
    assert [p["id"] for p in body["points"]] == ["keco-67"]


def test_settings_read_the_key_from_the_environment(monkeypatch):
    monkeypatch.setenv("ECO2_KAKAO_REST_API_KEY", "from-env")
    monkeypatch.setenv("ECO2_KAKAO_LOCAL_BASE_URL", "http://127.0.0.1:1")
    settings = LocationsSettings(_env_file=None)
    assert settings.kakao_rest_api_key is not None
    assert settings.kakao_rest_api_key.get_secret_value() == "from-env"
    assert asyncio.run(get_kakao_client(settings)) is not None
    assert "from-env" not in repr(settings)


@pytest.mark.parametrize("key", [None, ""])
def test_no_client_without_a_key(key):
    assert asyncio.run(get_kakao_client(LocationsSettings(_env_file=None, kakao_rest_api_key=key))) is None
