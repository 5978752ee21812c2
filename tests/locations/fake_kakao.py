"""A local stand-in for Kakao Local's keyword search, speaking its HTTP protocol, served by uvicorn.

It checks the ``Authorization: KakaoAK <key>`` header (401 with Kakao's error body otherwise), validates the
query parameters the way Kakao does (400 for a radius over 20 000 m or a size over 15), filters its places
by radius, sorts them by distance, and answers with ``documents`` whose x / y / distance are strings, plus
``meta``. Tests script failures through ``FakeKakao.failure``.
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

API_KEY = "test-kakao-rest-key"


@dataclass
class FakePlace:
    id: str
    name: str
    lat: float
    lng: float
    road_address: str = ""
    address: str = ""
    phone: str = ""


@dataclass
class FakeKakao:
    places: list[FakePlace] = field(default_factory=list)
    # None or one of: unauthorized, rate_limited, server_error, not_json, wrong_shape, bad_coordinates, slow
    failure: str | None = None
    slow_seconds: float = 2.0
    # Kakao measures distance its own way; False lets a place just past the radius through.
    honour_radius: bool = True
    requests: list[dict[str, Any]] = field(default_factory=list)

    def reset(self) -> None:
        self.places.clear()
        self.failure = None
        self.honour_radius = True
        self.requests.clear()

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v2/local/search/keyword.json", self._keyword_search)])

    async def _keyword_search(self, request: Request) -> Response:
        self.requests.append({"headers": dict(request.headers), "params": dict(request.query_params)})
        if request.headers.get("authorization") != f"KakaoAK {API_KEY}":
            return _kakao_error(401, "AccessDeniedError", "cannot find appkey")
        scripted = await self._scripted_failure()
        if scripted is not None:
            return scripted
        params = request.query_params
        try:
            lng, lat = float(params["x"]), float(params["y"])
            radius, size = int(params.get("radius", "20000")), int(params.get("size", "15"))
            query = params["query"]
        except (KeyError, ValueError):
            return _kakao_error(400, "MissingParameter", "query, x, y required")
        if not 0 <= radius <= 20_000 or not 1 <= size <= 15:
            return _kakao_error(400, "InvalidArgument", "radius must be 0-20000 and size 1-15")
        found = []
        for place in self.places:
            distance = _distance_m(lat, lng, place.lat, place.lng)
            if distance <= radius or not self.honour_radius:
                found.append((distance, place))
        found.sort(key=lambda pair: pair[0])
        documents = [_document(place, distance, query) for distance, place in found[:size]]
        meta = {
            "total_count": len(found),
            "pageable_count": len(found),
            "is_end": len(found) <= size,
            "same_name": {"region": [], "keyword": query, "selected_region": ""},
        }
        return JSONResponse({"documents": documents, "meta": meta})

    async def _scripted_failure(self) -> Response | None:
        if self.failure == "slow":
            await asyncio.sleep(self.slow_seconds)
            return None
        if self.failure == "unauthorized":
            return _kakao_error(401, "AccessDeniedError", "disabled app key")
        if self.failure == "rate_limited":
            return _kakao_error(429, "RequestThrottled", "API limit has been exceeded.")
        if self.failure == "server_error":
            return Response("upstream exploded", status_code=502)
        if self.failure == "not_json":
            return Response("<html>maintenance</html>", status_code=200, media_type="text/html")
        if self.failure == "wrong_shape":
            return JSONResponse({"items": []})
        if self.failure == "bad_coordinates":
            document = {"id": "1", "place_name": "x", "x": "east", "y": "north", "distance": "10"}
            return Response(json.dumps({"documents": [document], "meta": {}}), media_type="application/json")
        return None


def _kakao_error(status: int, error_type: str, message: str) -> JSONResponse:
    return JSONResponse({"errorType": error_type, "message": message}, status_code=status)


def _document(place: FakePlace, distance: float, query: str) -> dict[str, str]:
    return {
        "id": place.id,
        "place_name": place.name,
        "category_name": f"{query} 검색결과",
        "category_group_code": "",
        "category_group_name": "",
        "phone": place.phone,
        "address_name": place.address,
        "road_address_name": place.road_address,
        "x": repr(place.lng),
        "y": repr(place.lat),
        "place_url": f"http://place.map.kakao.com/{place.id}",
        "distance": str(round(distance)),
    }


def _distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Equirectangular approximation: fine for the few kilometres the tests use, and independent code."""
    mean_lat = math.radians((lat1 + lat2) / 2)
    dy = math.radians(lat2 - lat1)
    dx = math.radians(lng2 - lng1) * math.cos(mean_lat)
    return 6_371_000 * math.hypot(dx, dy)
