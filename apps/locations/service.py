"""Nearest collection points over the embedded KECO data: pure, in-memory, no I/O after the first load.

Search = vectorised bounding-box prefilter on degrees, then haversine distances on the survivors, then a
radius cut, a stable sort by distance and the limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from apps.locations.categories import category_keys, category_matches, validate_category
from apps.locations.dataset import CollectionPoint, load_dataset

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean Earth radius
DEFAULT_NEAREST_RADIUS_M = 20_000.0
_METRES_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_M / 180.0


@dataclass(frozen=True)
class PointMatch:
    point: CollectionPoint
    distance_m: float


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres between two WGS84 points (spherical Earth)."""
    return float(_haversine_m(lat1, lng1, np.array([lat2]), np.array([lng2]))[0])


def _haversine_m(
    lat: float, lng: float, lats: npt.NDArray[np.float64], lngs: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    phi1, phi2 = math.radians(lat), np.radians(lats)
    dphi = phi2 - phi1
    dlambda = np.radians(lngs) - math.radians(lng)
    a = np.sin(dphi / 2.0) ** 2 + math.cos(phi1) * np.cos(phi2) * np.sin(dlambda / 2.0) ** 2
    distances: npt.NDArray[np.float64] = 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return distances


class PointIndex:
    """Coordinates as numpy arrays plus one boolean mask per category key, built once."""

    def __init__(self, points: Sequence[CollectionPoint]) -> None:
        self.points = tuple(points)
        self._by_id = {p.id: p for p in self.points}
        self._lats = np.array([p.lat for p in self.points], dtype=np.float64)
        self._lngs = np.array([p.lng for p in self.points], dtype=np.float64)
        self._category_masks = {
            key: np.array([category_matches(key, p.accepted_categories) for p in self.points], dtype=bool)
            for key in category_keys()
        }

    def get(self, point_id: str) -> CollectionPoint | None:
        return self._by_id.get(point_id)

    def search(
        self, lat: float, lng: float, *, radius_m: float, category: str | None = None, limit: int = 5
    ) -> list[PointMatch]:
        """Points within ``radius_m`` of (lat, lng) accepting ``category``, nearest first, at most ``limit``.

        Raises UnknownCategoryError for a category that is not a taxonomy key, ValueError for bad numbers.
        """
        if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
            raise ValueError(f"invalid coordinates lat={lat} lng={lng}")
        if not radius_m > 0 or limit < 1:
            raise ValueError("radius_m must be positive and limit at least 1")
        lat_span = radius_m / _METRES_PER_DEGREE_LAT
        # Longitude degrees shrink with cos(latitude); near the poles the box spans every longitude.
        cos_lat = math.cos(math.radians(min(abs(lat) + lat_span, 90.0)))
        lng_span = 180.0 if cos_lat < 1e-9 else min(radius_m / (_METRES_PER_DEGREE_LAT * cos_lat), 180.0)
        dlng = np.abs((self._lngs - lng + 180.0) % 360.0 - 180.0)
        mask = (np.abs(self._lats - lat) <= lat_span) & (dlng <= lng_span)
        if category is not None:
            mask &= self._category_masks[validate_category(category)]
        candidates = np.flatnonzero(mask)
        distances = _haversine_m(lat, lng, self._lats[candidates], self._lngs[candidates])
        within = distances <= radius_m
        candidates, distances = candidates[within], distances[within]
        order = np.argsort(distances, kind="stable")[:limit]
        return [PointMatch(self.points[candidates[j]], float(distances[j])) for j in order]


@lru_cache(maxsize=1)
def get_index() -> PointIndex:
    """The process-wide index over the embedded KECO data set."""
    return PointIndex(load_dataset().points)


def nearest_points(
    lat: float,
    lng: float,
    category: str | None,
    limit: int = 3,
    *,
    radius_m: float = DEFAULT_NEAREST_RADIUS_M,
) -> list[CollectionPoint]:
    """Nearest KECO collection points accepting ``category`` (a taxonomy category key, or None for any),
    within ``radius_m`` (20 km by default), nearest first. For the scan pipeline: pure, no HTTP."""
    matches = get_index().search(lat, lng, radius_m=radius_m, category=category, limit=limit)
    return [match.point for match in matches]
