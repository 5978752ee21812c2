"""Request and response models of the locations API, and their construction from domain records."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator, model_validator

from apps.locations.categories import validate_category
from apps.locations.dataset import KOREA_LAT_RANGE, KOREA_LNG_RANGE, CollectionPoint, in_korea
from apps.locations.hours import DayHours, DayStatus, is_public_holiday, to_seoul
from apps.locations.kakao import KakaoPlace

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class NearbyQuery(BaseModel):
    # The OpenAPI declares South Korea's bounding box, the only area served; the check below explains it.
    lat: float = Field(
        ge=-90.0,
        le=90.0,
        allow_inf_nan=False,
        description="latitude (WGS84)",
        json_schema_extra={"minimum": KOREA_LAT_RANGE[0], "maximum": KOREA_LAT_RANGE[1]},
    )
    lng: float = Field(
        ge=-180.0,
        le=180.0,
        allow_inf_nan=False,
        description="longitude (WGS84)",
        json_schema_extra={"minimum": KOREA_LNG_RANGE[0], "maximum": KOREA_LNG_RANGE[1]},
    )
    radius_m: int = Field(default=2000, ge=100, le=20_000, description="search radius in metres")
    category: str | None = Field(default=None, description="taxonomy category key: recyclable/paper_pack")
    limit: int = Field(default=5, ge=1, le=20)

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str | None) -> str | None:
        return None if value is None else validate_category(value)

    @model_validator(mode="after")
    def _inside_korea(self) -> NearbyQuery:
        if not in_korea(self.lat, self.lng):
            raise ValueError(
                f"location ({self.lat}, {self.lng}) is outside South Korea's bounding box "
                f"(lat {KOREA_LAT_RANGE[0]}..{KOREA_LAT_RANGE[1]}, "
                f"lng {KOREA_LNG_RANGE[0]}..{KOREA_LNG_RANGE[1]}); "
                "collection points are known for South Korea only"
            )
        return self


class DayHoursOut(BaseModel):
    text: str = Field(description="the source's wording, verbatim")
    status: DayStatus
    ranges: list[str] = Field(description="regular opening ranges, HH:MM-HH:MM")
    weeks_of_month: list[int] | None = Field(description="served only on these occurrences of the weekday")
    seasonal: str | None = Field(description="override, e.g. 'months 7-9: 10:00-23:00'")

    @classmethod
    def of(cls, day: DayHours) -> DayHoursOut:
        seasonal = None
        if day.seasonal is not None:
            months = sorted(day.seasonal.months)
            seasonal = f"months {months[0]}-{months[-1]}: {', '.join(map(str, day.seasonal.ranges))}"
        return cls(
            text=day.raw,
            status=day.status,
            ranges=[str(r) for r in day.ranges],
            weeks_of_month=None if day.weeks_of_month is None else sorted(day.weeks_of_month),
            seasonal=seasonal,
        )


class HoursToday(BaseModel):
    date: date
    public_holiday: bool
    text: str
    status: DayStatus
    ranges: list[str] = Field(description="ranges open on this date (week-of-month and season applied)")


class PointSource(StrEnum):
    KECO = "keco"
    KAKAO = "kakao"


class PointSummary(BaseModel):
    id: str
    source: PointSource
    name: str
    address: str | None
    lat: float
    lng: float
    phone: str | None
    accepted_items: list[str] = Field(description="as published; empty when the source does not say")
    accepted_categories: list[str]
    hours_today: HoursToday | None = Field(description="None when the source publishes no hours")
    open_now: bool | None = Field(description="None when the hours are unknown")
    place_url: str | None = None
    search_keyword: str | None = Field(default=None, description="the Kakao keyword that found this place")


class NearbyPoint(PointSummary):
    distance_m: int


class PointDetail(PointSummary):
    region: str
    lot_address: str | None
    location_hint: str | None
    phone_note: str | None
    parking: str | None
    homepage: str | None
    notes: str | None
    weekly_hours: dict[str, DayHoursOut]
    holiday_hours: DayHoursOut


class KakaoStatus(StrEnum):
    DISABLED = "disabled"  # no REST key configured: embedded KECO data only
    NOT_APPLICABLE = "not_applicable"  # no kind of place takes this category
    OK = "ok"
    DEGRADED = "degraded"  # Kakao failed; the answer holds KECO points only


class NearbyResponse(BaseModel):
    points: list[NearbyPoint]
    kakao_status: KakaoStatus
    degraded: bool = Field(description="true when a configured source failed and was left out")
    degraded_reason: str | None = None


def _summary(point: CollectionPoint, now: datetime) -> PointSummary:
    local = to_seoul(now)
    day = point.hours.for_date(local.date())
    hours_today = None
    if day.raw:
        hours_today = HoursToday(
            date=local.date(),
            public_holiday=is_public_holiday(local.date()),
            text=day.raw,
            status=day.status,
            ranges=[str(r) for r in day.ranges_on(local.date())],
        )
    return PointSummary(
        id=point.id,
        source=PointSource.KECO,
        name=point.name,
        address=point.address,
        lat=point.lat,
        lng=point.lng,
        phone=point.phone,
        accepted_items=list(point.accepted_items),
        accepted_categories=sorted(point.accepted_categories),
        hours_today=hours_today,
        open_now=point.hours.open_at(local),
    )


def nearby_from_point(point: CollectionPoint, distance_m: float, now: datetime) -> NearbyPoint:
    return NearbyPoint(**dict(_summary(point, now)), distance_m=round(distance_m))


def nearby_from_kakao(place: KakaoPlace, keyword: str, distance_m: float) -> NearbyPoint:
    return NearbyPoint(
        id=f"kakao-{place.id}",
        source=PointSource.KAKAO,
        name=place.place_name,
        address=place.road_address_name or place.address_name or None,
        lat=place.y,
        lng=place.x,
        phone=place.phone or None,
        accepted_items=[],
        accepted_categories=[],
        hours_today=None,
        open_now=None,
        place_url=place.place_url or None,
        search_keyword=keyword,
        distance_m=round(distance_m),
    )


def detail_from_point(point: CollectionPoint, now: datetime) -> PointDetail:
    return PointDetail(
        **dict(_summary(point, now)),
        region=point.region,
        lot_address=point.lot_address,
        location_hint=point.location_hint,
        phone_note=point.phone_note,
        parking=point.parking,
        homepage=point.homepage,
        notes=point.notes,
        weekly_hours={
            name: DayHoursOut.of(day) for name, day in zip(WEEKDAY_NAMES, point.hours.weekdays, strict=True)
        },
        holiday_hours=DayHoursOut.of(point.hours.holiday),
    )
