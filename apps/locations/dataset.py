"""The embedded KECO collection-point data set, loaded once per process into typed, validated records."""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from apps.locations.categories import category_for_item
from apps.locations.hours import DayStatus, WeeklyHours, parse_day_hours

log = logging.getLogger(__name__)

DATA_FILE = "keco_recycling_sites.csv"

# South Korea's extent, with a small margin: Marado (33.11 N) to Goseong (38.61 N), Baengnyeongdo (124.61 E)
# to Dokdo (131.87 E). Coordinates outside it are typos in the source (e.g. 5.157 for 35.157).
KOREA_LAT_RANGE = (33.0, 38.7)
KOREA_LNG_RANGE = (124.5, 132.0)

_WEEKDAY_COLUMNS = (
    "monSalsHrExplnCn",
    "tuesSalsHrExplnCn",
    "wedSalsHrExplnCn",
    "thurSalsHrExplnCn",
    "friSalsHrExplnCn",
    "satSalsHrExplnCn",
    "sunSalsHrExplnCn",
)
_HOLIDAY_COLUMN = "lhldySalsHrExplnCn"
_REQUIRED_COLUMNS = frozenset(
    {
        "positnSn",
        "positnNm",
        "positnRgnNm",
        "positnLotnoAddr",
        "positnRdnmAddr",
        "positnPstnAddExpln",
        "positnPstnLat",
        "positnPstnLot",
        "prkMthdExpln",
        "rprsTelnoCn",
        "telnoExpln",
        "lnkgHmpgUrlAddr",
        "clctItemCn",
        "etcMttrCn",
        _HOLIDAY_COLUMN,
        *_WEEKDAY_COLUMNS,
    }
)


class DatasetError(ValueError):
    """The data file itself is unusable (missing columns, duplicate ids): fail loudly at load."""


@dataclass(frozen=True)
class CollectionPoint:
    """One KECO collection point (재활용품 회수보상제 / 자원순환가게)."""

    id: str  # "keco-<positnSn>"
    name: str
    region: str
    road_address: str | None
    lot_address: str | None
    location_hint: str | None  # where exactly on the site, e.g. "주차장 정자 앞"
    lat: float
    lng: float
    hours: WeeklyHours
    phone: str | None
    phone_note: str | None
    accepted_items: tuple[str, ...]  # verbatim lines of clctItemCn; empty = not published
    accepted_categories: frozenset[str]
    parking: str | None
    homepage: str | None
    notes: str | None

    @property
    def address(self) -> str | None:
        return self.road_address or self.lot_address


@dataclass(frozen=True)
class SkippedRow:
    source_id: str
    name: str
    reason: str


@dataclass(frozen=True)
class Dataset:
    points: tuple[CollectionPoint, ...]
    skipped: tuple[SkippedRow, ...]
    unmapped_items: frozenset[str]  # accepted-item lines no category rule recognised


def in_korea(lat: float, lng: float) -> bool:
    return KOREA_LAT_RANGE[0] <= lat <= KOREA_LAT_RANGE[1] and KOREA_LNG_RANGE[0] <= lng <= KOREA_LNG_RANGE[1]


def parse_coordinates(lat_text: str, lng_text: str) -> tuple[float, float]:
    """Strictly parse a coordinate pair; ValueError says why it is unusable."""
    try:
        lat, lng = float(lat_text.strip()), float(lng_text.strip())
    except ValueError:
        raise ValueError(f"unparseable coordinates lat={lat_text!r} lng={lng_text!r}") from None
    if not (math.isfinite(lat) and math.isfinite(lng)) or not in_korea(lat, lng):
        raise ValueError(f"coordinates outside South Korea lat={lat} lng={lng}")
    return lat, lng


def _optional(text: str) -> str | None:
    stripped = text.strip()
    return stripped or None


def _point_from_row(row: Mapping[str, str]) -> CollectionPoint:
    lat, lng = parse_coordinates(row["positnPstnLat"], row["positnPstnLot"])
    hours = WeeklyHours(
        weekdays=tuple(parse_day_hours(row[column]) for column in _WEEKDAY_COLUMNS),
        holiday=parse_day_hours(row[_HOLIDAY_COLUMN]),
    )
    if hours.discontinued:
        raise ValueError("discontinued (계약종료)")
    items = tuple(line.strip() for line in row["clctItemCn"].splitlines() if line.strip())
    categories = frozenset(c for c in map(category_for_item, items) if c is not None)
    return CollectionPoint(
        id=f"keco-{row['positnSn'].strip()}",
        name=row["positnNm"].strip(),
        region=row["positnRgnNm"].strip(),
        road_address=_optional(row["positnRdnmAddr"]),
        lot_address=_optional(row["positnLotnoAddr"]),
        location_hint=_optional(row["positnPstnAddExpln"]),
        lat=lat,
        lng=lng,
        hours=hours,
        phone=_optional(row["rprsTelnoCn"]),
        phone_note=_optional(row["telnoExpln"]),
        accepted_items=items,
        accepted_categories=categories,
        parking=_optional(row["prkMthdExpln"]),
        homepage=_optional(row["lnkgHmpgUrlAddr"]),
        notes=_optional(row["etcMttrCn"]),
    )


def build_dataset(rows: Iterable[Mapping[str, str]]) -> Dataset:
    """Validate rows into records. Rows without usable coordinates or that are discontinued are skipped and
    logged by name; unknown hours or item texts are kept verbatim (and logged) rather than guessed."""
    points: list[CollectionPoint] = []
    skipped: list[SkippedRow] = []
    unmapped: set[str] = set()
    seen_ids: set[str] = set()
    for row in rows:
        source_id, name = row["positnSn"].strip(), row["positnNm"].strip()
        if not source_id or not name:
            raise DatasetError(f"row without id or name: {dict(row)!r}")
        if source_id in seen_ids:
            raise DatasetError(f"duplicate positnSn {source_id}")
        seen_ids.add(source_id)
        try:
            point = _point_from_row(row)
        except ValueError as exc:
            log.warning("KECO point %s %r skipped: %s", source_id, name, exc)
            skipped.append(SkippedRow(source_id, name, str(exc)))
            continue
        unmapped.update(item for item in point.accepted_items if category_for_item(item) is None)
        for day in (*point.hours.weekdays, point.hours.holiday):
            if day.status is DayStatus.UNKNOWN and day.raw:
                log.warning("KECO point %s %r: unrecognised hours %r", source_id, name, day.raw)
        points.append(point)
    for item in sorted(unmapped):
        log.warning("KECO accepted item %r maps to no category", item)
    return Dataset(tuple(points), tuple(skipped), frozenset(unmapped))


def read_rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text), restval="")  # a short row reads as empty cells
    missing = _REQUIRED_COLUMNS - set(reader.fieldnames or ())
    if missing:
        raise DatasetError(f"data file lacks columns {sorted(missing)}")
    return list(reader)


@lru_cache(maxsize=1)
def load_dataset() -> Dataset:
    """The embedded data set, parsed once per process."""
    text = resources.files("apps.locations.data").joinpath(DATA_FILE).read_text(encoding="utf-8-sig")
    dataset = build_dataset(read_rows(text))
    log.info("loaded %d KECO collection points (%d skipped)", len(dataset.points), len(dataset.skipped))
    return dataset
