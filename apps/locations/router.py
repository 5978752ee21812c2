"""HTTP API of the locations service (mounted at /api/v1/locations)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from apps.core.errors import error_responses
from apps.core.request_rate import search_rate_limit
from apps.locations.hours import SEOUL
from apps.locations.kakao import KakaoLocalClient, KakaoLocalError, KakaoPlace, keyword_for_category
from apps.locations.schemas import (
    KakaoStatus,
    NearbyPoint,
    NearbyQuery,
    NearbyResponse,
    PointDetail,
    detail_from_point,
    nearby_from_kakao,
    nearby_from_point,
)
from apps.locations.service import get_index, haversine_m
from apps.locations.settings import LocationsSettings, request_locations_settings

log = logging.getLogger(__name__)

router = APIRouter(tags=["locations"])

# A Kakao place this close to a KECO point is taken to be the same place.
SAME_PLACE_DISTANCE_M = 50.0


async def seoul_now() -> datetime:
    return datetime.now(SEOUL)


async def get_kakao_client(
    settings: Annotated[LocationsSettings, Depends(request_locations_settings)],
) -> KakaoLocalClient | None:
    """The Kakao Local client when a REST key is configured, else None (KECO data only)."""
    if settings.kakao_rest_api_key is None or not settings.kakao_rest_api_key.get_secret_value():
        return None
    return KakaoLocalClient(
        settings.kakao_rest_api_key.get_secret_value(),
        base_url=settings.kakao_local_base_url,
        timeout_seconds=settings.kakao_timeout_seconds,
    )


@router.get(
    "/nearby",
    response_model=NearbyResponse,
    dependencies=[Depends(search_rate_limit)],
    responses=error_responses(429),
)
async def nearby(
    query: Annotated[NearbyQuery, Query()],
    now: Annotated[datetime, Depends(seoul_now)],
    kakao: Annotated[KakaoLocalClient | None, Depends(get_kakao_client)],
) -> NearbyResponse:
    """Collection points near (lat, lng) that take ``category``, nearest first.

    KECO points always; Kakao Local places too when a key is configured. If Kakao fails the answer is the
    KECO points with ``degraded`` set and the reason, never an error.
    """
    matches = get_index().search(
        query.lat, query.lng, radius_m=query.radius_m, category=query.category, limit=query.limit
    )
    points = [nearby_from_point(m.point, m.distance_m, now) for m in matches]
    if kakao is None:
        return NearbyResponse(points=points, kakao_status=KakaoStatus.DISABLED, degraded=False)
    keyword = keyword_for_category(query.category)
    if keyword is None:
        return NearbyResponse(points=points, kakao_status=KakaoStatus.NOT_APPLICABLE, degraded=False)
    try:
        places = await kakao.search_keyword(keyword, lat=query.lat, lng=query.lng, radius_m=query.radius_m)
    except KakaoLocalError as exc:
        log.warning("Kakao Local search failed; answering from KECO data only: %s", exc)
        return NearbyResponse(
            points=points, kakao_status=KakaoStatus.DEGRADED, degraded=True, degraded_reason=exc.failure
        )
    merged = _merge(points, places, keyword, query)
    return NearbyResponse(points=merged, kakao_status=KakaoStatus.OK, degraded=False)


def _merge(
    keco: list[NearbyPoint], places: list[KakaoPlace], keyword: str, query: NearbyQuery
) -> list[NearbyPoint]:
    """KECO points plus Kakao places inside the radius that are not KECO points, nearest first."""
    extra = []
    for place in places:
        distance = haversine_m(query.lat, query.lng, place.y, place.x)
        duplicate = any(haversine_m(p.lat, p.lng, place.y, place.x) <= SAME_PLACE_DISTANCE_M for p in keco)
        if distance <= query.radius_m and not duplicate:
            extra.append(nearby_from_kakao(place, keyword, distance))
    return sorted([*keco, *extra], key=lambda p: p.distance_m)[: query.limit]


@router.get("/points/{point_id}", response_model=PointDetail, responses=error_responses(404))
def point_detail(point_id: str, now: Annotated[datetime, Depends(seoul_now)]) -> PointDetail:
    """One KECO collection point with its full weekly hours. Kakao places are not stored (404)."""
    point = get_index().get(point_id)
    if point is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no collection point {point_id!r}")
    return detail_from_point(point, now)
