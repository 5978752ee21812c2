"""Kakao Local keyword search, used to widen the embedded KECO results when a REST key is configured.

Kakao Local has no recycling category, so each taxonomy category is searched by a keyword naming the kind
of place that takes it (scrap dealers for paper/metal/clothes, community centres for battery and lamp bins).
Every failure is raised as ``KakaoLocalError`` with a machine-readable reason; callers degrade, never 500.
"""

from __future__ import annotations

from enum import StrEnum

import httpx
from pydantic import BaseModel, ValidationError

from apps.core.tls import tls_context
from apps.locations.categories import RECYCLABLE

KEYWORD_SEARCH_PATH = "/v2/local/search/keyword.json"
MAX_RADIUS_M = 20_000
MAX_PAGE_SIZE = 15

_SCRAP_DEALER = "고물상"
_RECYCLING_CENTRE = "재활용센터"
_COMMUNITY_CENTRE = "주민센터"  # battery, lamp and medicine bins
_RESOURCE_SHOP = "자원순환가게"  # buy-back shops for PET, cans, paper packs

_KEYWORDS: dict[str, str] = {
    RECYCLABLE: _RESOURCE_SHOP,
    f"{RECYCLABLE}/paper": _SCRAP_DEALER,
    f"{RECYCLABLE}/metal": _SCRAP_DEALER,
    f"{RECYCLABLE}/textile": _SCRAP_DEALER,
    f"{RECYCLABLE}/paper_pack": _RESOURCE_SHOP,
    f"{RECYCLABLE}/clear_pet": _RESOURCE_SHOP,
    f"{RECYCLABLE}/plastic": _RESOURCE_SHOP,
    f"{RECYCLABLE}/vinyl": _RESOURCE_SHOP,
    f"{RECYCLABLE}/styrofoam": _RESOURCE_SHOP,
    f"{RECYCLABLE}/glass": _RESOURCE_SHOP,
    f"{RECYCLABLE}/electronics": _RECYCLING_CENTRE,
    f"{RECYCLABLE}/battery": _COMMUNITY_CENTRE,
    f"{RECYCLABLE}/lamp": _COMMUNITY_CENTRE,
    "bulky": _RECYCLING_CENTRE,
    "hazardous": _COMMUNITY_CENTRE,
}


def keyword_for_category(category: str | None) -> str | None:
    """The Kakao search keyword for a category; None for categories no place takes (general, food ...),
    which go out with the household's own bags and bins."""
    if category is None:
        return _KEYWORDS[RECYCLABLE]
    return _KEYWORDS.get(category)


class KakaoFailure(StrEnum):
    TIMEOUT = "kakao_timeout"
    UNREACHABLE = "kakao_unreachable"
    UNAUTHORIZED = "kakao_unauthorized"  # 401/403: missing, wrong or disabled key
    RATE_LIMITED = "kakao_rate_limited"  # 429: quota exceeded
    UPSTREAM_ERROR = "kakao_upstream_error"  # 5xx or another unexpected status
    BAD_RESPONSE = "kakao_bad_response"  # not the documented JSON shape


class KakaoLocalError(Exception):
    def __init__(self, failure: KakaoFailure, detail: str) -> None:
        super().__init__(f"{failure}: {detail}")
        self.failure = failure


class KakaoPlace(BaseModel):
    """One keyword-search document. Kakao sends x (longitude) and y (latitude) as strings."""

    id: str
    place_name: str
    address_name: str = ""
    road_address_name: str = ""
    phone: str = ""
    place_url: str = ""
    x: float
    y: float


class KakaoKeywordResponse(BaseModel):
    documents: list[KakaoPlace]


class KakaoLocalClient:
    def __init__(
        self,
        api_key: str,
        *,
        base_url: str,
        timeout_seconds: float,
    ) -> None:
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout_seconds

    async def search_keyword(
        self, query: str, *, lat: float, lng: float, radius_m: int, size: int = MAX_PAGE_SIZE
    ) -> list[KakaoPlace]:
        """Places matching ``query`` within ``radius_m`` of (lat, lng), nearest first (one page)."""
        params: dict[str, str | int | float] = {
            "query": query,
            "x": lng,
            "y": lat,
            "radius": min(radius_m, MAX_RADIUS_M),
            "size": min(size, MAX_PAGE_SIZE),
            "sort": "distance",
        }
        headers = {"Authorization": f"KakaoAK {self._api_key}"}
        try:
            async with httpx.AsyncClient(
                base_url=self._base_url, timeout=self._timeout, verify=tls_context()
            ) as client:
                response = await client.get(KEYWORD_SEARCH_PATH, params=params, headers=headers)
        except httpx.TimeoutException as exc:
            raise KakaoLocalError(KakaoFailure.TIMEOUT, repr(exc)) from exc
        except httpx.HTTPError as exc:
            raise KakaoLocalError(KakaoFailure.UNREACHABLE, repr(exc)) from exc
        if response.status_code in (401, 403):
            raise KakaoLocalError(KakaoFailure.UNAUTHORIZED, _excerpt(response))
        if response.status_code == 429:
            raise KakaoLocalError(KakaoFailure.RATE_LIMITED, _excerpt(response))
        if response.status_code != 200:
            detail = f"HTTP {response.status_code}: {_excerpt(response)}"
            raise KakaoLocalError(KakaoFailure.UPSTREAM_ERROR, detail)
        try:
            return KakaoKeywordResponse.model_validate_json(response.content).documents
        except ValidationError as exc:
            raise KakaoLocalError(KakaoFailure.BAD_RESPONSE, str(exc)) from exc


def _excerpt(response: httpx.Response) -> str:
    return response.text[:200]
